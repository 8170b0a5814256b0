// Which screen a route shows. Signed out, only the ways in; signed in, everything else.
import type { JSX } from "preact";
import type { Me } from "../api/views";
import type { Route } from "../router";
import { segments } from "../router";
import { SignIn, SignUp, Welcome } from "./account";
import { Home } from "./home";

export function screenFor(
  route: Route,
  me: Me | null,
  signOut: () => void,
  _setMe: (me: Me) => void,
): JSX.Element {
  const [first] = segments(route.path);
  if (!me) {
    if (first === "sign-in") return <SignIn />;
    if (first === "sign-up") return <SignUp />;
    return <Welcome />;
  }
  switch (first) {
    default:
      return <Home me={me} onSignOut={signOut} />;
  }
}
