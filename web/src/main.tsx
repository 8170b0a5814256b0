import { render } from "preact";
import { App } from "./app";
import { initialLanguage, setLanguage } from "./i18n";
import "./style.css";

setLanguage(initialLanguage());
const root = document.getElementById("app");
if (root) render(<App />, root);

// Installable, and the app's own files open without a network; the API is never cached.
if ("serviceWorker" in navigator) {
  addEventListener("load", () => {
    void navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" });
  });
}
