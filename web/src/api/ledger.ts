// The ledger's API, as the app reaches it: booking forwards /ledger/v1/... to the ledger on
// the app's own origin (so the app's Content-Security-Policy lets it call nowhere else). The
// client is typed from the ledger's OpenAPI document (web/ledger-openapi.json, generated into
// ledger-schema.d.ts at build time), as booking's is from its own.
import createClient from "openapi-fetch";
import type { components, paths } from "./ledger-schema";
import { bearer } from "./client";
import type { Me } from "./views";

export const ledger = createClient<paths>({ baseUrl: `${globalThis.location?.origin ?? ""}/ledger` });
ledger.use(bearer);

type Schemas = components["schemas"];
export type Balance = Schemas["Balance"];
export type Money = Schemas["Money"];
export type Statement = Schemas["Statement"];
export type StatementLine = Schemas["StatementLine"];
export type Earnings = Schemas["Earnings"];
export type Month = Schemas["Month"];
export type Pot = Schemas["Pot"];
export type Gift = Schemas["Gift"];
export type CommunityView = Schemas["CommunityView"];
export type Expense = Schemas["Expense"];
export type Expenses = Schemas["Expenses"];

/** Booking's ``GET /v1/me`` says which neighbourhood cell a person's home is in. */
export function neighbourhoodOf(me: Me): string | null {
  const cell = (me as Me & { neighbourhood?: unknown }).neighbourhood;
  return typeof cell === "string" && cell ? cell : null;
}
