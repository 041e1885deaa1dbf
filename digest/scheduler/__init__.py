"""Scheduled editions: one APScheduler 3 cron job per edition, catch-up, graceful stop.

Each edition with a ``schedule:`` gets a cron trigger in its own IANA time
zone (so '0 7 * * mon' in Europe/London is 07:00 local in winter and in
summer; digest.cron says what happens in the repeated and the skipped hour), ``misfire_grace_time`` = the edition's grace and ``coalesce``: a run
late by less than the grace still happens, once; a later one is skipped and
logged. APScheduler keeps its jobs in memory; what must survive a restart is
in the SQLite ledger: one ``runs`` row per fire time (started, sent,
skipped-late, skipped-no-new, failed, and for a reviewed edition in-review and
held: digest.review). On start, ``catch_up`` looks at the
fire times since the last recorded run: the latest is sent if it is still
within the grace window, older ones are recorded as skipped and reported,
and a run a crash interrupted (or that failed, say with the SMTP server
down) is tried again within grace, resuming from its ledger, so nobody gets
it twice. An edition's first `digest run` is recorded (runs.scheduler_start) and
nothing before it is owed: a new store starts from now, with no catch-up and no
"missed" runs from before it existed. SIGTERM/SIGINT set a stop flag: the message in flight
is finished and recorded, then the process exits; the next start resumes.
One `digest run` per store: it holds the store's "scheduler" lease
(digest.leases) and a second one stops at once; each run holds its
edition's send lease, so a `digest send` of the same edition cannot overlap it.

The edition of a run is built with ``now`` = its scheduled time, so its id
(and every Message-ID) is the same however late or often the run is retried.

digest.scheduler.service wires APScheduler (jobs, `digest run`, `--once`,
signals); digest.scheduler.fire_time decides what each fire time does
(run_scheduled, catch_up, retry_deferred).
"""
