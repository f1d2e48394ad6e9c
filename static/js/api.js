// REST client for the Confab API (docs/PROTOCOL.md sections 1-6): bearer tokens kept in
// localStorage, one refresh attempt on a 401, errors turned into ApiError with the server's code.

const STORE_KEY = 'confab.session';

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || 'http_error';
    this.field = field;
  }
}

let session = load();
let refreshing = null;
const listeners = new Set();

function load() {
  try {
    const raw = localStorage.getItem(STORE_KEY);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

function save() {
  if (session) localStorage.setItem(STORE_KEY, JSON.stringify(session));
  else localStorage.removeItem(STORE_KEY);
  for (const fn of listeners) fn(session);
}

export function onSessionChange(fn) { listeners.add(fn); }
export function getSession() { return session; }

export function setSession(pair) {
  session = {
    access_token: pair.access_token,
    refresh_token: pair.refresh_token || null,
    user: pair.user || (session && session.user) || null,
  };
  save();
}

export function setUser(user) {
  if (!session) return;
  session.user = user;
  save();
}

export function clearSession() {
  session = null;
  save();
}

async function parseError(res) {
  let body = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  const e = body && body.error;
  return new ApiError(res.status, e && e.code, e && e.message, e && e.field);
}

export async function refresh() {
  if (!session || !session.refresh_token) return false;
  if (!refreshing) {
    const rt = session.refresh_token;
    refreshing = (async () => {
      try {
        const res = await fetch('/api/auth/refresh', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ refresh_token: rt }),
        });
        if (!res.ok) return false;
        setSession(await res.json());
        return true;
      } catch {
        return false;
      }
    })().finally(() => { refreshing = null; });
  }
  return refreshing;
}

/// One JSON request. `body` is sent as JSON; the answer's JSON is returned (null for 204).
export async function request(method, path, body, { auth = true, retry = true } = {}) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (auth && session) headers.Authorization = `Bearer ${session.access_token}`;
  const res = await fetch(path, {
    method,
    headers,
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  if (res.status === 401 && auth && retry && session) {
    if (await refresh()) return request(method, path, body, { auth, retry: false });
    clearSession();
  }
  if (!res.ok) throw await parseError(res);
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

export const get = (p) => request('GET', p);
export const post = (p, b = {}) => request('POST', p, b);
export const patch = (p, b) => request('PATCH', p, b);
export const del = (p) => request('DELETE', p);

export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  }
  const s = u.toString();
  return s ? `?${s}` : '';
}

/// A file upload with progress (fetch has no upload progress, XHR has).
/// Returns {promise, abort}; onProgress gets a fraction 0..1.
export function upload(file, onProgress) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    const send = (again) => {
      xhr.open('POST', '/api/chat/uploads');
      if (session) xhr.setRequestHeader('Authorization', `Bearer ${session.access_token}`);
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
      xhr.onload = async () => {
        if (xhr.status === 401 && again && (await refresh())) { send(false); return; }
        let body = null;
        try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
        if (xhr.status >= 200 && xhr.status < 300) { onProgress(1); resolve(body); return; }
        const e = body && body.error;
        reject(new ApiError(xhr.status, e && e.code, e && e.message, e && e.field));
      };
      xhr.onerror = () => reject(new ApiError(0, 'network', 'network error'));
      xhr.onabort = () => reject(new ApiError(0, 'aborted', 'upload cancelled'));
      const form = new FormData();
      form.append('file', file, file.name || 'pasted-file');
      xhr.send(form);
    };
    send(true);
  });
  return { promise, abort: () => xhr.abort() };
}

/// The `results` array of a list answer, whatever shape the server chose ({results}, an array).
export function results(answer) {
  if (Array.isArray(answer)) return answer;
  if (answer && Array.isArray(answer.results)) return answer.results;
  return [];
}
