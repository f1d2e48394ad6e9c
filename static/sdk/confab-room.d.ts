// Type declarations of the <confab-room> element (confab-room.js): importing the module defines it.

/** `<confab-room room="…" token="…" base-url="…">`: one room's conversation in a shadow root. */
export class ConfabRoom extends HTMLElement {
  /** The token (the `token` attribute, or set here to keep it out of the DOM). */
  token: string | null;
}

declare global {
  interface HTMLElementTagNameMap {
    'confab-room': ConfabRoom;
  }
}
