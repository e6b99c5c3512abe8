// The API client: the bearer token (kept in this tab's sessionStorage only) and JSON requests in the
// API's envelope and error shape.

const TOKEN_KEY = 'dialtone.token';

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** An error answer: `status` is the HTTP status, `code` the API's error code when it sent one. */
export class ApiError extends Error {
  constructor(status, code, message, retryable) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.retryable = Boolean(retryable);
  }
}

export function authHeaders(extra = {}) {
  const headers = { ...extra };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  return headers;
}

/** Throws an ApiError for a non-2xx answer, with the API's `{error: {code, message}}` when present. */
export async function checked(response) {
  if (response.ok) return response;
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON: the status says enough.
  }
  const e = body && body.error;
  throw new ApiError(response.status, e && e.code, e && e.message, e && e.retryable);
}

/** A JSON request to the API; returns the parsed body. */
export async function api(path, { method = 'GET', body, signal } = {}) {
  const init = { method, headers: authHeaders({ Accept: 'application/json' }), signal };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await checked(await fetch(path, init));
  if (response.status === 204) return null;
  return response.json();
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') node.textContent = v;
    else if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const child of children) {
    if (child !== undefined && child !== null) node.append(child);
  }
  return node;
}

export function time(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function byTestId(id, root = document) {
  return root.querySelector(`[data-testid="${id}"]`);
}
