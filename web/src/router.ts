// Screens are addressed by the part of the address after "#": the browser's back button works,
// a screen can be bookmarked, and booking serves one page for them all.
import { useEffect, useState } from "preact/hooks";

export interface Route {
  path: string;
  params: URLSearchParams;
}

export function parse(hash: string): Route {
  const raw = hash.replace(/^#/, "") || "/";
  const [path = "/", query = ""] = raw.split("?", 2);
  return { path: path.startsWith("/") ? path : `/${path}`, params: new URLSearchParams(query) };
}

export function go(path: string): void {
  location.hash = path;
}

export function href(path: string): string {
  return `#${path}`;
}

/** The screen's path split at "/", for routes such as /visit/{id}/cancel. */
export function segments(path: string): string[] {
  return path.split("/").filter(Boolean);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parse(location.hash));
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
