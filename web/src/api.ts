/**
 * The management API client. The admin token lives in sessionStorage: it survives a reload but not the tab,
 * and it is sent only as `Authorization: Bearer` (RFC 6750 §2.1), never in a URL.
 */
const TOKEN_KEY = 'updraft.token';
const API = '/api/v1';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value: string) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** Listeners told when the server refuses the token, so the app can go back to the sign-in page. */
const unauthorizedListeners = new Set<() => void>();
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

function authHeaders(): Record<string, string> {
  const value = token.get();
  return value ? { Authorization: `Bearer ${value}` } : {};
}

async function failure(status: number, body: string): Promise<ApiError> {
  if (status === 401) {
    token.clear();
    for (const listener of unauthorizedListeners) listener();
  }
  let message = body || `HTTP ${status}`;
  try {
    message = (JSON.parse(body) as { message?: string }).message ?? message;
  } catch {
    // not JSON: keep the text
  }
  return new ApiError(status, message);
}

/** Any request to the server (`/api/v1/...` or a seed endpoint such as `/notify`); JSON in and out. */
export async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(path, {
    ...init,
    headers: { ...authHeaders(), ...(init.headers as Record<string, string>) },
  });
  const text = await res.text();
  if (!res.ok) throw await failure(res.status, text);
  return (text ? JSON.parse(text) : undefined) as T;
}

export const get = <T>(path: string) => request<T>(`${API}${path}`);

export const post = <T>(path: string, body?: unknown) =>
  request<T>(`${API}${path}`, {
    method: 'POST',
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });

export const put = <T>(path: string, body: unknown) =>
  request<T>(`${API}${path}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

export const del = (path: string) => request<void>(`${API}${path}`, { method: 'DELETE' });

/** Checks a token before keeping it. */
export async function signIn(value: string): Promise<void> {
  const res = await fetch(`${API}/products`, { headers: { Authorization: `Bearer ${value}` } });
  if (!res.ok)
    throw new ApiError(
      res.status,
      res.status === 401 ? 'This token is not a valid admin token.' : `HTTP ${res.status}`,
    );
  token.set(value);
}

/**
 * A multipart upload with progress. fetch cannot report upload progress, XMLHttpRequest can
 * (`xhr.upload.onprogress`), hence the one XHR in the app.
 */
export function upload<T>(path: string, form: FormData, onProgress: (fraction: number) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${API}${path}`);
    for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(JSON.parse(xhr.responseText) as T);
      } else {
        failure(xhr.status, xhr.responseText).then(reject, reject);
      }
    };
    xhr.onerror = () => reject(new ApiError(0, 'The upload failed: the server could not be reached.'));
    xhr.send(form);
  });
}

/** Downloads an artifact with the token (a plain link could not send it) and hands it to the browser. */
export async function download(path: string, filename: string): Promise<void> {
  const res = await fetch(`${API}${path}`, { headers: authHeaders() });
  if (!res.ok) throw await failure(res.status, await res.text());
  const url = URL.createObjectURL(await res.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
