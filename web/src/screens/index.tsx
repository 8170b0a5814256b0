// Which screen a route shows. Signed out, only the ways in; signed in, everything else.
import type { JSX } from "preact";
import type { Me } from "../api/views";
import type { Route } from "../router";
import { segments } from "../router";
import { SignIn, SignUp, Welcome } from "./account";
import { After } from "./after";
import { Ask } from "./ask";
import { Concern } from "./concern";
import { Emergency } from "./emergency";
import { Home } from "./home";
import { Hours } from "./hours";
import { Earnings, Give, Ledger, LedgerStatement, PotScreen } from "./ledger";
import { Expenses, RecordExpense } from "./expenses";
import { Forgot, Reset, Verify } from "./links";
import { Offers } from "./offers";
import { People } from "./people";
import { CancelRequest, CancelSeries, Requests } from "./requests";
import { DeleteAccount, Export, Messages, Settings } from "./settings";
import { CancelVisit, NoShow, Reschedule, Visit, Visits } from "./visits";

export function screenFor(
  route: Route,
  me: Me | null,
  signOut: () => void,
  setMe: (me: Me) => void,
): JSX.Element {
  const [first, id, task] = segments(route.path);
  // The links Kith emails open these whether or not the person is signed in on this device.
  if (first === "reset") return <Reset params={route.params} />;
  if (first === "verify") {
    return <Verify params={route.params} onVerified={me ? () => setMe({ ...me, email_verified: true }) : null} />;
  }
  if (!me) {
    if (first === "forgot") return <Forgot />;
    if (first === "sign-in") return <SignIn />;
    if (first === "sign-up") return <SignUp />;
    return <Welcome />;
  }
  switch (first) {
    case "ask":
      return <Ask me={me} helperId={route.params.get("helper")} helperName={route.params.get("name")} />;
    case "requests":
      return id && task === "cancel" ? <CancelRequest me={me} requestId={id} /> : <Requests me={me} />;
    case "series":
      return id ? <CancelSeries seriesId={id} /> : <Requests me={me} />;
    case "offers":
      return <Offers me={me} />;
    case "visits":
      return <Visits me={me} />;
    case "visit":
      if (!id) return <Visits me={me} />;
      if (task === "cancel") return <CancelVisit bookingId={id} />;
      if (task === "reschedule") return <Reschedule me={me} bookingId={id} />;
      if (task === "no-show") return <NoShow bookingId={id} />;
      if (task === "after") return <After bookingId={id} />;
      return <Visit me={me} bookingId={id} />;
    case "people":
      return <People />;
    case "hours":
      return <Hours me={me} />;
    case "concern":
      return <Concern about={route.params.get("about")} booking={route.params.get("booking")} />;
    case "ledger":
      if (id === "statement") return <LedgerStatement me={me} />;
      if (id === "earnings") return <Earnings />;
      if (id === "give") return <Give me={me} />;
      if (id === "pot") return <PotScreen me={me} />;
      if (id === "expenses") return task === "new" ? <RecordExpense me={me} /> : <Expenses me={me} />;
      return <Ledger me={me} />;
    case "settings":
      if (id === "messages") return <Messages />;
      if (id === "export") return <Export />;
      if (id === "delete") return <DeleteAccount />;
      if (id === "emergency") return <Emergency />;
      return <Settings me={me} onMe={setMe} />;
    default:
      return <Home me={me} onSignOut={signOut} />;
  }
}
