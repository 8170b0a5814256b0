// Who is signed in on this device: the bearer token, kept in the browser's own storage so an
// older person is not asked to sign in every time they open the app. The page's Content
// Security Policy runs only Kith's own scripts, which is what keeps the token from others.
type Listener = () => void;

const KEY = "kith.session";
const listeners = new Set<Listener>();

interface Stored {
  token: string;
  personId: string;
}

function read(): Stored | null {
  try {
    const raw = globalThis.localStorage?.getItem(KEY);
    return raw ? (JSON.parse(raw) as Stored) : null;
  } catch {
    return null;
  }
}

export const session = {
  token(): string | null {
    return read()?.token ?? null;
  },
  personId(): string | null {
    return read()?.personId ?? null;
  },
  start(token: string, personId: string): void {
    globalThis.localStorage?.setItem(KEY, JSON.stringify({ token, personId }));
    listeners.forEach((listener) => listener());
  },
  end(): void {
    globalThis.localStorage?.removeItem(KEY);
    listeners.forEach((listener) => listener());
  },
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};
