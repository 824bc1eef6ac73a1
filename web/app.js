// SPDX-License-Identifier: AGPL-3.0-or-later
// Placeholder for the web app (its own issue): shows whether the service answers.
const status = document.getElementById('status');
fetch('/healthz')
  .then((r) => {
    status.textContent = r.ok ? 'Servizio attivo. / Service up.' : 'Servizio non disponibile: riprova tra poco.';
  })
  .catch(() => {
    status.textContent = 'Servizio non raggiungibile: controlla la connessione.';
  });
