// What the page carries in its <meta> tags (console/mod.rs writes them), read once: the caller's
// role, the configured names the filters offer (the API's lists of sources and targets count more
// than a choice needs), and the store's status names (a copy here would drift from Rust's).
import { meta } from './dom.js';

const json = (name, none) => JSON.parse(meta(name) || none);

export const ROLE = meta('hookgate-role');
const RANK = { viewer: 1, operator: 2, admin: 3 };
/** Whether the caller's role is at least `role`. Only what is offered: the API checks again. */
export const can = (role) => (RANK[ROLE] ?? 0) >= RANK[role];

export const SOURCES = json('hookgate-sources', '[]');
export const TARGETS = json('hookgate-targets', '[]');
/** `{ event: [...], delivery: [...] }`: hookgate_store's EventStatus::ALL and DeliveryStatus::ALL. */
export const STATUSES = { event: [], delivery: [], ...json('hookgate-statuses', '{}') };
