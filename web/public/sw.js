// Kith's service worker: the app's own files open without a network (a poor signal indoors),
// the API is never cached (it answers for one person, and an old answer would mislead).
const SHELL = "kith-shell-v1";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(["/app/", "/app/manifest.webmanifest"])));
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((names) => Promise.all(names.filter((n) => n !== SHELL).map((n) => caches.delete(n)))),
  );
  self.clients.claim();
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin || !url.pathname.startsWith("/app/")) {
    return;
  }
  if (url.pathname.startsWith("/app/assets/")) {
    // Named by their content's hash: a cached copy is always right.
    event.respondWith(
      caches.match(event.request).then(
        (hit) =>
          hit ||
          fetch(event.request).then((response) => {
            const copy = response.clone();
            if (response.ok) caches.open(SHELL).then((cache) => cache.put(event.request, copy));
            return response;
          }),
      ),
    );
    return;
  }
  // The page itself: the network first, so a new version shows at once; the cache when offline.
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        const copy = response.clone();
        if (response.ok) caches.open(SHELL).then((cache) => cache.put(event.request, copy));
        return response;
      })
      .catch(() => caches.match(event.request).then((hit) => hit || caches.match("/app/"))),
  );
});

// A message Kith pushed (notify sends {title, body, tag}); pressing it opens the app.
self.addEventListener("push", (event) => {
  let message = { title: "Kith", body: "", tag: "kith" };
  try {
    message = { ...message, ...event.data.json() };
  } catch {
    // Not JSON: show Kith's name alone rather than nothing.
  }
  event.waitUntil(
    self.registration.showNotification(message.title, {
      body: message.body,
      tag: message.tag,
      icon: "/app/icon-192.png",
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(
    self.clients.matchAll({ type: "window" }).then((windows) => {
      const open = windows.find((client) => client.url.includes("/app/"));
      return open ? open.focus() : self.clients.openWindow("/app/");
    }),
  );
});
