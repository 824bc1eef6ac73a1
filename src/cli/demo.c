/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `araldo serve --demo`: on a new database, a demo Comune with two channels and a week of
 * realistic posts in Italian, so a newcomer sees the product working at once. Production
 * starts empty (no --demo).
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "store/channels.h"
#include "store/orgs.h"
#include "store/posts.h"
#include "store/reactions.h"

#define DAY_MS  (24LL * 3600 * 1000)
#define HOUR_MS (3600LL * 1000)

struct demo_post {
    int channel; /* index into channels[] */
    enum store_importance importance;
    int64_t age_ms; /* how long ago it was published */
    const char *text;
};

static const struct store_channel_fields channels[] = {
    { .handle = "valdoro-notizie",
      .name = "Comune di Valdoro — Notizie",
      .description = "Avvisi, eventi e servizi per la città di Valdoro: lavori stradali, "
                     "scuole, rifiuti, cultura. Solo comunicazioni ufficiali.",
      .category = "news",
      .language = "it",
      .has_listed = true,
      .listed = true },
    { .handle = "valdoro-protezione-civile",
      .name = "Protezione Civile Valdoro",
      .description = "Allerte meteo, rischio idrogeologico e indicazioni di comportamento "
                     "della Protezione Civile comunale.",
      .category = "civil_protection",
      .language = "it",
      .has_listed = true,
      .listed = true },
};

static const struct demo_post posts[] = {
    { 0, STORE_NORMAL, 7 * DAY_MS - 2 * HOUR_MS,
      "Benvenuti nel canale ufficiale del *Comune di Valdoro*! Qui trovate avvisi, eventi e "
      "servizi. Per seguirci non servono numero di telefono né registrazione." },
    { 0, STORE_NORMAL, 6 * DAY_MS,
      "🚧 *Lavori stradali* in via Roma da lunedì a venerdì, dalle 8 alle 17. Senso unico "
      "alternato; bus linea 3 deviata su via Garibaldi." },
    { 1, STORE_IMPORTANT, 5 * DAY_MS + 3 * HOUR_MS,
      "⚠️ *Allerta GIALLA* per temporali dalle 14 di oggi alle 8 di domani. Evitate "
      "sottopassi e zone vicine ai torrenti. Aggiornamenti su questo canale." },
    { 1, STORE_NORMAL, 4 * DAY_MS + 20 * HOUR_MS,
      "✅ Terminata l'allerta per temporali. Nessun danno segnalato. Grazie ai volontari "
      "della Protezione Civile." },
    { 0, STORE_NORMAL, 4 * DAY_MS,
      "📚 Iscrizioni alla mensa scolastica aperte fino al 30 del mese: modulo su "
      "https://comune.example.it/mensa oppure allo Sportello al cittadino." },
    { 0, STORE_SILENT, 3 * DAY_MS,
      "♻️ Raccolta differenziata: giovedì è festivo, il ritiro della _carta_ è spostato a "
      "venerdì." },
    { 0, STORE_NORMAL, 2 * DAY_MS,
      "🎭 Sabato alle 21 in piazza del Municipio: *concerto della banda cittadina*. Ingresso "
      "libero. In caso di pioggia al Teatro Comunale." },
    { 1, STORE_NORMAL, DAY_MS + 5 * HOUR_MS,
      "Esercitazione di Protezione Civile domenica mattina nella zona del fiume: sentirete "
      "le sirene alle 10:00 per circa un minuto. È solo una prova." },
    { 0, STORE_NORMAL, 6 * HOUR_MS,
      "💧 Domani dalle 9 alle 13 interruzione dell'acqua in via Verdi e via Mazzini per "
      "lavori sulla rete idrica." },
    { 1, STORE_IMPORTANT, 2 * HOUR_MS,
      "⚠️ *Allerta ARANCIONE* per rischio idrogeologico da stanotte. Non sostate vicino ai "
      "corsi d'acqua, spostate le auto dai piani interrati, seguite gli aggiornamenti." },
};

/* A poll an hour old, open for a week: followers of the demo can vote at once. */
static int demo_poll(struct store *s, int64_t channel_id, int64_t owner_id)
{
    struct store_poll_new poll = {
        .question = "Festa di Natale in piazza: quale giorno preferite?",
        .options = { "Sabato 19 dicembre", "Domenica 20 dicembre", "Entrambi i giorni" },
        .n_options = 3,
        .closes_ms = clock_now_ms() + 7 * DAY_MS,
    };
    struct store_post_fields f = {
        .text = "🎄 Stiamo organizzando la *festa di Natale* in piazza del Municipio. Diteci "
                "quale giorno preferite: votate qui sotto entro una settimana!",
        .poll = &poll,
    };
    int rc;

    clock_set_offset_ms(-HOUR_MS);
    rc = store_post_create(s, channel_id, owner_id, &f, NULL, NULL, NULL);
    clock_set_offset_ms(0);
    return rc;
}

int cli_demo_seed(struct store *s, int64_t owner_id)
{
    struct store_org_fields org = {
        .set = STORE_ORG_F_NAME | STORE_ORG_F_ISTAT | STORE_ORG_F_TZ | STORE_ORG_F_CONTROLLER |
               STORE_ORG_F_DPO | STORE_ORG_F_A11Y_URL | STORE_ORG_F_A11Y_EMAIL,
        .name = "Comune di Valdoro",
        .istat_code = "099999",
        .timezone = "Europe/Rome",
        /* what the public pages' footer and privacy notice show (addresses under .example) */
        .privacy_controller = "Comune di Valdoro, piazza del Municipio 1, Valdoro; "
                              "protocollo@valdoro.example",
        .privacy_dpo = "Ufficio del Responsabile della protezione dei dati, rpd@valdoro.example",
        .accessibility_url = "https://www.valdoro.example/dichiarazione-accessibilita",
        .accessibility_email = "accessibilita@valdoro.example",
    };
    int64_t org_id = 0;
    int64_t ch_id[2] = { 0, 0 };
    int64_t id;
    int rc;

    rc = store_org_add(s, 0, "comune-valdoro", &org, NULL, NULL, &org_id);
    for (int i = 0; !rc && i < 2; i++)
        rc = store_channel_create(s, org_id, owner_id, &channels[i], NULL, NULL, &ch_id[i]);
    /*
     * Posts from the past week: the store stamps writes with the wall clock, so shift it back
     * for each one. Nothing else is writing yet (the server has not started).
     */
    for (size_t i = 0; !rc && i < ARRAY_SIZE(posts); i++) {
        struct store_post_fields f = {
            .text = posts[i].text,
            .has_importance = true,
            .importance = posts[i].importance,
        };

        clock_set_offset_ms(-posts[i].age_ms);
        rc = store_post_create(s, ch_id[posts[i].channel], owner_id, &f, NULL, NULL, &id);
    }
    clock_set_offset_ms(0);
    if (!rc)
        rc = demo_poll(s, ch_id[0], owner_id);
    if (rc) {
        fprintf(stderr, "araldo: cannot create the demo: %s\n", strerror(-rc));
    } else {
        printf("demo: created 'Comune di Valdoro' with channels valdoro-notizie and "
               "valdoro-protezione-civile, a week of posts and a poll\n");
    }
    return rc;
}
