// Type declarations of Confab's JavaScript SDK (confab.js). The wire shapes are those of
// docs/PROTOCOL.md; fields the server may add are allowed.

export type ConnectionState = 'connecting' | 'online' | 'offline' | 'closed';

export interface ConnectOptions {
  /** Where Confab runs, e.g. "https://chat.example.com" (default in a browser: the page's origin). */
  baseUrl?: string;
  /** An access token (a platform-minted JWT or Confab's own). */
  token?: string;
  /** Called whenever a token is needed; `expired` is true after the server refused the last one. */
  getToken?: (info: { expired: boolean }) => string | Promise<string>;
  /** A WebSocket constructor; required in Node 20 (`import { WebSocket } from 'ws'`). */
  WebSocket?: new (url: string) => WebSocketLike;
  /** Reconnect delays: exponential from initialMs (500) up to maxMs (15000), with jitter. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Connect at once (default true); otherwise call `client.open()`. */
  autoConnect?: boolean;
  /** React to the browser's online/offline events (default true). */
  watchNetwork?: boolean;
}

export interface WebSocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number): void;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface Sender { id: string; display_name: string }

export interface Attachment {
  id: string;
  url: string;
  file_name: string;
  file_size: number;
  content_type: string;
  thumbnail_url: string | null;
  width: number | null;
  height: number | null;
  /** In REST answers: `url` signed for the caller, valid without a bearer header until `signed_until`. */
  signed_url?: string;
  signed_thumbnail_url?: string | null;
  signed_until?: string;
}

export interface Reaction { emoji: string; count: number; user_ids: string[] }

export interface Message {
  id: string;
  room_id: string;
  seq: number;
  sender: Sender;
  message_type: string;
  content: string;
  attachment: Attachment | null;
  reply_to: string | null;
  reply_count: number;
  reactions: Reaction[];
  mentions: string[];
  metadata: unknown;
  client_id: string | null;
  created_at: string;
  edited_at: string | null;
  is_deleted: boolean;
}

export interface RoomInfo {
  id: string;
  name: string;
  room_type: 'direct' | 'group' | 'channel' | 'public';
  last_seq: number;
  [key: string]: unknown;
}

export interface Presence { user_id: string; status: 'online' | 'away' | 'busy' | 'offline'; last_seen: string | null; current_room: string | null }

export interface SendFields {
  content?: string;
  message_type?: string;
  reply_to?: string;
  attachment_id?: string;
  metadata?: unknown;
  /** Chosen by the SDK when absent; a send with a known client_id is the same send. */
  client_id?: string;
}

export interface HistoryPage { results: Message[]; has_more: boolean; last_seq: number }

export class ConfabError extends Error {
  /** The server's error code (`not_found`, `forbidden`, …) or `disconnected`, `timeout`, `network`, `closed`. */
  code: string;
  status?: number;
  field?: string;
  retry_after_ms?: number;
}

type Off = () => void;

export interface RoomEvents {
  message: Message;
  updated: Message;
  deleted: { message_id: string; seq: number };
  reaction: { message_id: string; user_id: string; emoji: string; added: boolean; seq: number };
  typing: { user_id: string; is_typing: boolean };
  read: { user_id: string; last_read_seq: number; seq: number };
  presence: Presence;
  member: { kind: 'joined' | 'updated' | 'left'; member?: unknown; user_id?: string; seq: number };
  room: RoomInfo;
  /** The gap was too large to replay: reload the history (the room is subscribed from now). */
  resync: { room_id: string; last_seq: number };
  /** The room refused this client (not a member, no such room). */
  error: ConfabError;
  /** Every room frame, raw, once each. */
  event: Record<string, unknown>;
}

export interface ClientEvents {
  state: ConnectionState;
  connected: { user_id: string; tenant_id: string; session_id: string };
  presence: Presence;
  mention: Message;
  room_added: RoomInfo;
  closing: string;
  unauthorized: ConfabError;
  error: ConfabError;
  /** Every server frame except acks and pongs, once each (room events deduplicated by seq). */
  frame: Record<string, unknown> & { type: string };
}

export class Room {
  readonly id: string;
  readonly client: Client;
  /** The highest room seq seen: where the next resume starts. */
  lastSeq: number | null;
  info: RoomInfo | null;
  error: ConfabError | null;
  on<K extends keyof RoomEvents>(type: K, fn: (value: RoomEvents[K]) => void): Off;
  once<K extends keyof RoomEvents>(type: K, fn: (value: RoomEvents[K]) => void): Off;
  off<K extends keyof RoomEvents>(type: K, fn: (value: RoomEvents[K]) => void): void;
  /** Resolves when the room is subscribed on the current connection. */
  ready(): Promise<Room>;
  get(): Promise<RoomInfo>;
  history(opts?: { before?: number; after?: number; limit?: number }): Promise<HistoryPage>;
  members(): Promise<unknown[]>;
  /** Resolves once, with the stored message, on the server's ack (also after resends). */
  send(content: string, fields?: SendFields): Promise<Message>;
  send(fields: SendFields): Promise<Message>;
  edit(messageId: string, content: string): Promise<Message>;
  delete(messageId: string): Promise<void>;
  react(messageId: string, emoji: string, on?: boolean): Promise<void>;
  markRead(seq?: number): Promise<unknown>;
  /** False when offline (typing is never queued). */
  typing(on?: boolean): boolean;
  fileUrl(message: Message, opts?: { thumbnail?: boolean }): Promise<string>;
  /** Stops following this room on this client. */
  leave(): void;
}

export class Client {
  readonly baseUrl: string;
  state: ConnectionState;
  readonly online: boolean;
  user: { id: string; tenant_id: string } | null;
  readonly rooms: Map<string, Room>;
  on<K extends keyof ClientEvents>(type: K, fn: (value: ClientEvents[K]) => void): Off;
  once<K extends keyof ClientEvents>(type: K, fn: (value: ClientEvents[K]) => void): Off;
  off<K extends keyof ClientEvents>(type: K, fn: (value: ClientEvents[K]) => void): void;
  /** The room, subscribed from now on (afterSeq: resume from there instead of joining). */
  room(id: string, opts?: { afterSeq?: number }): Room;
  open(): Client;
  close(): void;
  /** A REST call with the token: `api('GET', '/api/chat/rooms')`. */
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  upload(file: Blob, fileName?: string): Promise<Attachment>;
  fileUrl(message: Message, opts?: { thumbnail?: boolean }): Promise<string>;
  absolute(path: string): string;
  /** Low level: one frame as is (false when not connected). */
  sendFrame(frame: Record<string, unknown>): boolean;
  /** Low level: a frame with a ref, resolved by its ack. */
  request(frame: Record<string, unknown>, opts?: { timeoutMs?: number }): Promise<Record<string, unknown>>;
  token(expired?: boolean): Promise<string>;
}

export function connect(options: ConnectOptions): Client;
export function uuid(): string;

