// Small UI pieces: a toast, a modal dialog, a popover near an anchor.

import { h, clear, $ } from './dom.js';
import { icon } from './icons.js';

let toastTimer = null;
export function toast(text, ms = 4000) {
  const el = $('#toast');
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, ms);
}

/// A modal <dialog> with a title, a body and a close button; removed from the page on close.
export function modal(title, body, { onClose } = {}) {
  const id = `dlg-${Math.random().toString(36).slice(2)}`;
  const dlg = h('dialog.modal', { 'aria-labelledby': id },
    h('header.modal-header',
      h('h2', { id }, title),
      h('button.icon-btn', { type: 'button', 'aria-label': 'Close', on: { click: () => dlg.close() } }, icon('close', 16))),
    h('div.modal-body', body));
  dlg.addEventListener('close', () => { dlg.remove(); if (onClose) onClose(); });
  dlg.addEventListener('click', (ev) => { if (ev.target === dlg) dlg.close(); });
  document.body.appendChild(dlg);
  dlg.showModal();
  const first = dlg.querySelector('input, select, textarea');
  if (first) first.focus();
  return dlg;
}

let openPopover = null;
/// A popover element placed near `anchor`; closes on outside click or Escape.
export function popover(anchor, content, label) {
  closePopover();
  const root = $('#popover-root');
  const el = h('div.popover', { role: 'dialog', 'aria-label': label }, content);
  root.appendChild(el);
  const r = anchor.getBoundingClientRect();
  const w = el.offsetWidth;
  const hgt = el.offsetHeight;
  let left = Math.min(window.innerWidth - w - 8, Math.max(8, r.left + r.width / 2 - w / 2));
  let top = r.top - hgt - 6;
  if (top < 8) top = r.bottom + 6;
  el.style.left = `${left}px`;
  el.style.top = `${top}px`;
  const onDoc = (ev) => { if (!el.contains(ev.target) && ev.target !== anchor) closePopover(); };
  const onKey = (ev) => { if (ev.key === 'Escape') { closePopover(); anchor.focus(); } };
  setTimeout(() => document.addEventListener('mousedown', onDoc), 0);
  document.addEventListener('keydown', onKey);
  openPopover = { el, off: () => { document.removeEventListener('mousedown', onDoc); document.removeEventListener('keydown', onKey); } };
  const f = el.querySelector('button, input');
  if (f) f.focus();
  return el;
}

export function closePopover() {
  if (!openPopover) return;
  openPopover.off();
  openPopover.el.remove();
  openPopover = null;
}

export { clear };
