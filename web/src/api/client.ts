// The one way the app talks to Kith: booking's HTTP API, typed from its OpenAPI document
// (web/openapi.json, generated into schema.d.ts at build time). A path or a body the API no
// longer accepts is a type error, so a changed API breaks the build rather than the person.
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";
import { session } from "../session";

/** An RFC 9457 problem as booking answers it: a title, a detail, and the fields at fault. */
export interface Problem {
  status: number;
  title: string;
  detail: string;
  errors?: { field: string; reason: string }[];
  retryAfterS?: number;
}

export class ApiProblem extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail || problem.title);
  }
}

export const bearer: Middleware = {
  onRequest({ request }) {
    const token = session.token();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  onResponse({ response }) {
    // A token that stopped working (signed out elsewhere, the account deleted) ends the
    // session here too, so the person is shown the sign-in screen instead of errors.
    if (response.status === 401 && session.token()) session.end();
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: globalThis.location?.origin ?? "" });
api.use(bearer);

/** The body of an answer, or an ApiProblem thrown for a refusal (or no connection). */
export async function answer<T>(
  call: Promise<{ data?: unknown; error?: unknown; response: Response }>,
): Promise<T> {
  let result: { data?: unknown; error?: unknown; response: Response };
  try {
    result = await call;
  } catch {
    throw new ApiProblem({ status: 0, title: "offline", detail: "" });
  }
  const { data, error, response } = result;
  if (response.ok) return data as T;
  throw new ApiProblem(toProblem(response, error));
}

export function toProblem(response: Response, error: unknown): Problem {
  const body = (typeof error === "object" && error !== null ? error : {}) as Partial<Problem>;
  const retry = Number(response.headers.get("Retry-After"));
  return {
    status: response.status,
    title: body.title ?? response.statusText,
    detail: body.detail ?? "",
    errors: Array.isArray(body.errors) ? body.errors : [],
    ...(Number.isFinite(retry) && retry > 0 ? { retryAfterS: retry } : {}),
  };
}

/** A new key for a POST that creates something: a retry after a lost answer creates nothing twice. */
export function idempotencyKey(): { "Idempotency-Key": string } {
  return { "Idempotency-Key": crypto.randomUUID() };
}
