//! Replicas of a service (pods) against one rate-limited partner, sharing
//! its 429s through PostgreSQL: a `Retry-After` heard by one replica holds
//! the others' cooldowns too (`retry_runtime::shared_holds`, feature
//! `shared-holds`: `Cooldown::with_on_hold` hands each hold a run makes to
//! a publisher, which sends `NOTIFY cooldown_holds, '<replica> <cooldown>
//! <wait_ms>'`; each replica's `PgListener` applies the others' with
//! `hold_for`, which tells no hook: nothing echoes back).
//!
//! Two or three replicas in one test process (and a second service on its
//! own channel): a set of `Cooldown` statics each, each with its own
//! listener connection and publisher, the transport the real
//! PostgreSQL (`testkit::pg`: `DATABASE_URL`, or a throwaway cluster started
//! for this process; a test fails, never skips, without one). The partner
//! is `testkit::flaky`'s server answering 429 with `Retry-After`. The
//! delivery is PostgreSQL's, in real time: a test polls the other
//! replica's `remaining()` every 10 ms, with a 30 s deadline, and asserts
//! no time; the holds it makes are long (20-30 s), so none ends during a
//! test. A connection that goes silent is a small TCP proxy of the test's
//! that stops moving bytes; one that stops hearing, a proxy that drops the
//! notifications. PgBouncer in transaction pooling is a real one
//! (`testkit::pg::PgBouncer`, installed when missing: a test fails, never
//! skips, without it).

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use retry_runtime::cooldown::Cooldown;
use retry_runtime::reqwest::{HttpError, error_for_status};
use retry_runtime::shared_holds::{self, Counts, ListenerState, MAX_WAIT, SharedHolds};
use retry_runtime::{Policy, RetryOn, presets};
use sqlx::{Connection, PgConnection, PgPool};
use testkit::flaky::{FlakyServer, Reply};
use tracing::Level;

// (counts this thread's allocations in `testkit::alloc::allocations_in`;
// forwards every call to the system allocator)
#[global_allocator]
static GLOBAL: testkit::alloc::Counting = testkit::alloc::Counting;

/// One replica's statics: the cooldowns it shares (each told its runs'
/// holds, handed to `$shared`) and the `SharedHolds` that shares them.
macro_rules! replica {
    ($shared:ident $(.$setter:ident($arg:expr))* : $($cooldown:ident = $name:literal),+) => {
        $(
            static $cooldown: Cooldown =
                Cooldown::new($name).with_on_hold(|event| $shared.hand_on(event));
        )+
        static $shared: SharedHolds = SharedHolds::new(&[$(&$cooldown),+]) $(.$setter($arg))*;
    };
}

/// A database of this test's own, with the holds' table.
async fn database() -> PgPool {
    database_and_url().await.0
}

/// [`database`], and its URL.
async fn database_and_url() -> (PgPool, String) {
    let url = testkit::pg::fresh_database("replicas").await;
    let pool = PgPool::connect(&url)
        .await
        .expect("connect to the test's database");
    sqlx::query(shared_holds::TABLE)
        .execute(&pool)
        .await
        .expect("create the holds' table");
    (pool, url)
}

/// Poll `done` every 10 ms until it is true; a failure after 30 s (a
/// generous deadline: PostgreSQL delivers in milliseconds).
async fn eventually(waiting_for: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "still waiting after 30s for {waiting_for}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The partner's calls through `cooldown`: `presets::API` (a 429's
/// `Retry-After` honoured), one attempt, so the test waits no retry: a
/// run that gives up holds the cooldown as one that retries does.
fn partner_calls(cooldown: &'static Cooldown) -> Policy<RetryOn> {
    presets::API
        .with_name("partner.get")
        .with_max_attempts(1)
        .with_cooldown(cooldown)
}

/// One GET through `policy`; a 4xx or 5xx an `HttpError` with its
/// `Retry-After`.
async fn get(
    policy: &Policy<RetryOn>,
    client: &reqwest::Client,
    url: &str,
) -> Result<(), HttpError> {
    policy
        .retry(|| async {
            let resp = client
                .get(url)
                .send()
                .await
                .expect("the flaky server answers");
            error_for_status(resp).await.map(drop)
        })
        .await
}

/// A 429 asking for `wait`, as `error_for_status` makes it.
fn too_many_requests(wait: Duration) -> HttpError {
    let mut headers = HeaderMap::new();
    let secs = HeaderValue::from_str(&wait.as_secs().to_string()).unwrap();
    headers.insert(RETRY_AFTER, secs);
    HttpError::from_head(StatusCode::TOO_MANY_REQUESTS, &headers)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// The acceptance test: replica A's call hears 429 `Retry-After: 30` and
/// holds; replica B's cooldown of that name then holds too, for about as
/// long; B sends nothing back (its hook is not told of a hold it applies).
/// Then B's own 429 on another cooldown reaches A: every hold B would have
/// echoed was published before it, and PostgreSQL delivers the
/// notifications of one sender in the order they committed, so A's counts
/// then show every echo there was: none.
#[tokio::test]
async fn a_429_heard_by_one_replica_holds_the_other_and_is_not_sent_back() {
    replica!(A: PARTNER_A = "partner", SEARCH_A = "search");
    replica!(B: PARTNER_B = "partner", SEARCH_B = "search");
    let pool = database().await;
    A.start(pool.clone(), "a".into()).await.unwrap();
    B.start(pool.clone(), "b".into()).await.unwrap();
    let server = FlakyServer::start().await;
    server.route("/partner", [Reply::retry_after_secs(30)]);
    server.route("/search", [Reply::retry_after_secs(20)]);
    let client = client();

    let err = get(&partner_calls(&PARTNER_A), &client, &server.url("/partner"))
        .await
        .unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
    assert!(PARTNER_A.remaining().is_some(), "A holds");
    eventually("B's partner cooldown to hold", || {
        PARTNER_B.remaining().is_some()
    })
    .await;
    let (a_left, b_left) = (
        PARTNER_A.remaining().unwrap(),
        PARTNER_B.remaining().unwrap(),
    );
    // B's ends the transport's latency after A's: about as long
    assert!(b_left <= Duration::from_secs(30), "{b_left:?}");
    assert!(
        b_left + Duration::from_secs(5) > a_left,
        "A {a_left:?}, B {b_left:?}"
    );
    assert_eq!(SEARCH_B.remaining(), None, "only the cooldown of that name");

    let err = get(&partner_calls(&SEARCH_B), &client, &server.url("/search"))
        .await
        .unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(20)));
    eventually("A's search cooldown to hold", || {
        SEARCH_A.remaining().is_some()
    })
    .await;

    assert_eq!(
        A.counts(),
        Counts {
            handed_on: 1,
            published: 1,
            own: 1,      // its own partner hold, skipped
            received: 1, // B's search hold; no partner hold sent back
            ..Counts::default()
        }
    );
    eventually("B to skip its own search hold", || B.counts().own == 1).await;
    assert_eq!(
        B.counts(),
        Counts {
            handed_on: 1, // the search hold only
            published: 1,
            own: 1,
            received: 1,
            ..Counts::default()
        }
    );
    assert_eq!((server.hits("/partner"), server.hits("/search")), (1, 1));
}

/// Three replicas: A's 429 holds B and C, and neither sends it on (to A
/// or to each other). Then B's and C's own 429s, each on a cooldown of its
/// own, reach the two others: PostgreSQL delivers one sender's
/// notifications in commit order, so each replica's counts then show every
/// echo B or C made before: none (an echo of A's hold at A, received 3
/// instead of 2; at B, one from C, and so on).
#[tokio::test]
async fn three_replicas_hold_on_one_429_and_none_sends_it_on() {
    replica!(A: PARTNER_A = "partner", B_OWN_A = "b-own", C_OWN_A = "c-own");
    replica!(B: PARTNER_B = "partner", B_OWN_B = "b-own", C_OWN_B = "c-own");
    replica!(C: PARTNER_C = "partner", B_OWN_C = "b-own", C_OWN_C = "c-own");
    let pool = database().await;
    A.start(pool.clone(), "a".into()).await.unwrap();
    B.start(pool.clone(), "b".into()).await.unwrap();
    C.start(pool.clone(), "c".into()).await.unwrap();
    let held = |secs| too_many_requests(Duration::from_secs(secs));

    let _ = partner_calls(&PARTNER_A).decide(0, &held(30));
    eventually("B and C to hold", || {
        PARTNER_B.remaining().is_some() && PARTNER_C.remaining().is_some()
    })
    .await;
    let _ = partner_calls(&B_OWN_B).decide(0, &held(25));
    let _ = partner_calls(&C_OWN_C).decide(0, &held(20));
    eventually("each to hear the others' own holds", || {
        [&B_OWN_A, &C_OWN_A, &C_OWN_B, &B_OWN_C]
            .iter()
            .all(|c| c.remaining().is_some())
    })
    .await;
    eventually("each to skip its own", || {
        [&A, &B, &C].iter().all(|r| r.counts().own == 1)
    })
    .await;
    for (replica, counts) in [("a", A.counts()), ("b", B.counts()), ("c", C.counts())] {
        assert_eq!(
            counts,
            Counts {
                handed_on: 1,
                published: 1,
                own: 1,
                received: 2,
                ..Counts::default()
            },
            "replica {replica}"
        );
    }
}

/// A replica that starts (or restarts) while another's hold runs reads it
/// from the table when it starts: it holds at once.
#[tokio::test]
async fn a_replica_started_during_a_hold_holds_from_the_start() {
    replica!(A: PARTNER_A = "partner");
    replica!(B: PARTNER_B = "partner");
    let pool = database().await;
    A.start(pool.clone(), "a".into()).await.unwrap();
    let _ = partner_calls(&PARTNER_A).decide(0, &too_many_requests(Duration::from_secs(30)));
    assert!(PARTNER_A.remaining().is_some());
    eventually("A to publish its hold", || A.counts().published == 1).await;

    assert_eq!(PARTNER_B.remaining(), None);
    B.start(pool.clone(), "b".into()).await.unwrap();
    let left = PARTNER_B.remaining().expect("B holds once started");
    assert!(left <= Duration::from_secs(30), "{left:?}");
    assert_eq!(
        B.counts(),
        Counts {
            caught_up: 1,
            ..Counts::default()
        }
    );
}

/// A hold longer than a replica takes from a payload ([`MAX_WAIT`], an
/// hour: a policy whose cap allows a day, for a daily quota's 429) is sent
/// as `MAX_WAIT`, the most the others apply: each holds the hour, as a
/// replica reading it from the table does, instead of refusing it.
#[tokio::test]
async fn a_hold_longer_than_an_hour_holds_the_others_for_the_hour() {
    replica!(A: PARTNER_A = "partner");
    replica!(B: PARTNER_B = "partner");
    let pool = database().await;
    A.start(pool.clone(), "a".into()).await.unwrap();
    B.start(pool.clone(), "b".into()).await.unwrap();
    let day = Duration::from_secs(24 * 3600);
    let calls =
        partner_calls(&PARTNER_A).with_retry_after(presets::API.retry_after().with_cap(day));
    let _ = calls.decide(0, &too_many_requests(day));
    assert!(PARTNER_A.remaining().unwrap() > day - Duration::from_secs(60));

    eventually("A to publish", || A.counts().published == 1).await;
    eventually("B to take it or refuse it", || {
        let counts = B.counts();
        counts.received + counts.refused == 1
    })
    .await;
    assert_eq!(
        B.counts(),
        Counts {
            received: 1,
            ..Counts::default()
        }
    );
    let left = PARTNER_B.remaining().expect("B holds");
    assert!(
        left <= MAX_WAIT && left > MAX_WAIT - Duration::from_secs(60),
        "{left:?}"
    );
}

/// A row whose end is past any wait (`'infinity'`, or years out: an
/// operator holding a partner through the table, a row written by hand)
/// is applied as `MAX_WAIT`, the most a replica takes, as a payload is;
/// it does not fail the read of the table, which would fail `start` (and
/// every reconnect after) for as long as the row stays.
#[tokio::test]
async fn a_row_held_past_any_wait_is_applied_as_the_most_a_replica_takes() {
    replica!(A: PARTNER_A = "partner", SEARCH_A = "search");
    let pool = database().await;
    sqlx::query(
        "INSERT INTO cooldown_holds (channel, cooldown, until, sender)
         VALUES ($1, 'partner', 'infinity', 'ops'),
                ($1, 'search', now() + interval '5000 years', 'ops')",
    )
    .bind(shared_holds::CHANNEL)
    .execute(&pool)
    .await
    .unwrap();
    A.start(pool.clone(), "a".into()).await.unwrap();
    for cooldown in [&PARTNER_A, &SEARCH_A] {
        let left = cooldown.remaining().expect("held");
        assert!(
            left <= MAX_WAIT && left > MAX_WAIT - Duration::from_secs(60),
            "{}: {left:?}",
            cooldown.name()
        );
    }
    assert_eq!(A.counts().caught_up, 2);
}

/// Two services on one database, each sharing its holds on a channel of
/// its own (`with_channel`), both with a cooldown named `partner` (for two
/// different partners): a hold of one is applied by no replica of the
/// other, neither notified nor read from the table when it starts.
#[tokio::test]
async fn two_services_on_one_database_keep_their_holds_apart() {
    replica!(BILLING.with_channel("billing_holds"): PARTNER_BILLING = "partner");
    replica!(A: PARTNER_A = "partner");
    replica!(B: PARTNER_B = "partner");
    let pool = database().await;
    BILLING
        .start(pool.clone(), "billing-0".into())
        .await
        .unwrap();
    A.start(pool.clone(), "a".into()).await.unwrap();
    let _ = partner_calls(&PARTNER_BILLING).decide(0, &too_many_requests(Duration::from_secs(30)));
    eventually("billing to skip its own", || BILLING.counts().own == 1).await;

    // B starts while billing's hold runs
    B.start(pool.clone(), "b".into()).await.unwrap();
    assert_eq!(PARTNER_B.remaining(), None, "billing's partner is not B's");
    // A's hold reaches B after anything billing's could have
    let _ = partner_calls(&PARTNER_A).decide(0, &too_many_requests(Duration::from_secs(20)));
    eventually("B to hold A's", || B.counts().received == 1).await;
    assert_eq!(
        B.counts(),
        Counts {
            received: 1,
            ..Counts::default()
        }
    );
    assert_eq!(
        A.counts(),
        Counts {
            handed_on: 1,
            published: 1,
            own: 1,
            ..Counts::default()
        }
    );
}

/// A listener whose connection is cut (here `pg_terminate_backend`; a
/// failover, a restart, an idle connection killed by a proxy) says so,
/// reconnects, LISTENs again and reads the table: a hold published meanwhile
/// is applied, from the table or from its notification, whichever comes
/// first; never lost without a trace.
#[tokio::test]
async fn a_listener_whose_connection_is_cut_reconnects_and_still_holds() {
    replica!(A: PARTNER_A = "partner");
    replica!(B: PARTNER_B = "partner");
    let logs = testkit::capture::capture();
    let pool = database().await;
    A.start(pool.clone(), "a".into()).await.unwrap();
    B.start(pool.clone(), "b".into()).await.unwrap();

    let pid = B.listener_pid();
    assert_ne!(pid, 0);
    let cut: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(cut);
    let _ = partner_calls(&PARTNER_A).decide(0, &too_many_requests(Duration::from_secs(30)));

    eventually("B's partner cooldown to hold", || {
        PARTNER_B.remaining().is_some()
    })
    .await;
    eventually("B to notice the cut", || B.counts().reconnects == 1).await;
    // from the table, or notified, or both (a hold committed between the
    // new connection's LISTEN and its read of the table)
    let counts = B.counts();
    assert!(
        matches!(counts.received + counts.caught_up, 1 | 2),
        "{counts:?}"
    );
    assert_ne!(B.listener_pid(), pid, "a new connection");
    logs.assert_logged(Level::WARN, "the listener's connection was lost");
    eventually("B to say it listens again", || {
        !logs
            .matching(Level::INFO, "the listener is listening again")
            .is_empty()
    })
    .await;
    let back = logs.assert_logged(Level::INFO, "the listener is listening again");
    assert!(
        testkit::capture::field(&back, "away_ms").is_some(),
        "{back}"
    );
}

/// A replica whose listener reconnects reads the holds still running from
/// the table, but not its own: it holds them already, and applying its
/// own again would count and log each a second time (`caught_up`,
/// `retry_cooldown_holds_total`, "hold read from the table"). It skips
/// them as it skips its own notifications.
#[tokio::test]
async fn a_listener_that_reconnects_skips_its_own_holds_in_the_table() {
    replica!(A: PARTNER_A = "partner", SEARCH_A = "search");
    replica!(B: PARTNER_B = "partner", SEARCH_B = "search");
    let logs = testkit::capture::capture();
    let pool = database().await;
    A.start(pool.clone(), "a".into()).await.unwrap();
    B.start(pool.clone(), "b".into()).await.unwrap();
    let _ = partner_calls(&PARTNER_A).decide(0, &too_many_requests(Duration::from_secs(30)));
    eventually("A to skip its own notification", || A.counts().own == 1).await;
    eventually("B to hold", || PARTNER_B.remaining().is_some()).await;

    let pid = A.listener_pid();
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .execute(&pool)
        .await
        .unwrap();
    eventually("A to reconnect", || {
        A.counts().reconnects == 1 && A.listener_pid() != pid
    })
    .await;
    // B's hold is heard after A's read of the table: it is done
    let _ = partner_calls(&SEARCH_B).decide(0, &too_many_requests(Duration::from_secs(20)));
    eventually("A to hold B's", || SEARCH_A.remaining().is_some()).await;
    assert_eq!(
        A.counts(),
        Counts {
            handed_on: 1,
            published: 1,
            own: 2, // its notification, then its row in the table
            received: 1,
            reconnects: 1,
            ..Counts::default()
        }
    );
    assert!(
        logs.matching(Level::INFO, "hold read from the table")
            .is_empty(),
        "{:?}",
        logs.lines()
    );
}

/// A replica restarted under its name (a StatefulSet's pod) takes back,
/// when it starts, the holds it published before: its first read of the
/// table applies its own rows too.
#[tokio::test]
async fn a_replica_restarted_under_its_name_takes_back_its_holds() {
    replica!(BEFORE: PARTNER_BEFORE = "partner");
    replica!(AFTER: PARTNER_AFTER = "partner");
    let pool = database().await;
    BEFORE.start(pool.clone(), "pod-0".into()).await.unwrap();
    let _ = partner_calls(&PARTNER_BEFORE).decide(0, &too_many_requests(Duration::from_secs(30)));
    eventually("the hold to be published", || {
        BEFORE.counts().published == 1
    })
    .await;

    AFTER.start(pool.clone(), "pod-0".into()).await.unwrap();
    assert!(PARTNER_AFTER.remaining().is_some(), "holds once started");
    assert_eq!(
        AFTER.counts(),
        Counts {
            caught_up: 1,
            ..Counts::default()
        }
    );
}

/// A listener whose connection goes silent (its server gone without a
/// FIN or a RST: a failover that moves the address, a network partition;
/// here a proxy that stops moving bytes) would wait on it forever, sqlx
/// setting no TCP keepalive: it checks the connection when it has heard
/// nothing for a while, finds no answer, makes a new listener and reads
/// the hold published meanwhile from the table.
#[tokio::test]
async fn a_listener_whose_connection_goes_silent_is_made_again_and_still_holds() {
    replica!(A: PARTNER_A = "partner");
    replica!(B.with_check_every(Duration::from_millis(300)): PARTNER_B = "partner");
    let logs = testkit::capture::capture();
    let (pool, url) = database_and_url().await;
    A.start(pool.clone(), "a".into()).await.unwrap();
    let (proxied, silence) = silencing_proxy(&url).await;
    // B reaches the database through the proxy only
    // (a silenced connection stays taken: its listener's UNLISTEN never ends)
    let b_pool = pool_of(&proxied, 4).await;
    B.start(b_pool, "b".into()).await.unwrap();
    let pid = B.listener_pid();

    silence.send_modify(|generation| *generation += 1);
    let _ = partner_calls(&PARTNER_A).decide(0, &too_many_requests(Duration::from_secs(30)));
    eventually("A to publish", || A.counts().published == 1).await;
    eventually("B's partner cooldown to hold", || {
        PARTNER_B.remaining().is_some()
    })
    .await;
    // from the table (or notified, on a machine so loaded that the new
    // listener's LISTEN came before A's commit); a check of a healthy
    // connection that took over 300 ms there would make one more listener
    let counts = B.counts();
    assert!(counts.reconnects >= 1, "{counts:?}");
    assert!(
        matches!(counts.caught_up + counts.received, 1 | 2),
        "{counts:?}"
    );
    assert_eq!(
        counts.refused + counts.unknown + counts.own,
        0,
        "{counts:?}"
    );
    assert_ne!(B.listener_pid(), pid, "a new connection");
    let silent = logs.matching(
        Level::WARN,
        "no answer to a check of the connection in 300ms",
    );
    assert!(!silent.is_empty(), "{:?}", logs.lines());
    assert!(silent[0].contains("the listener's connection failed"));
}

/// A TCP proxy to the server of `url`: the URL through it, and a switch
/// whose every change silences the connections made through it so far
/// (kept open, no byte moved either way, as to a server that vanished);
/// the ones made after it are proxied.
async fn silencing_proxy(url: &str) -> (String, tokio::sync::watch::Sender<u32>) {
    let mut proxied = reqwest::Url::parse(url).unwrap();
    let server = format!(
        "{}:{}",
        proxied.host_str().unwrap(),
        proxied.port().unwrap_or(5432)
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    proxied
        .set_port(Some(listener.local_addr().unwrap().port()))
        .unwrap();
    let (silence, _) = tokio::sync::watch::channel(0u32);
    let switch = silence.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let Ok(mut upstream) = tokio::net::TcpStream::connect(&server).await else {
                continue;
            };
            let mut silenced = switch.subscribe();
            tokio::spawn(async move {
                tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => return,
                    _ = silenced.changed() => {}
                }
                // silent: both ends kept open until the test's runtime ends
                std::future::pending::<()>().await;
                drop((client, upstream));
            });
        }
    });
    (proxied.to_string(), silence)
}

/// A listener that stops hearing while its connection still answers (its
/// session's `LISTEN` gone: a pooler that hands its server connection to
/// other clients; here a proxy that drops the notifications) is found by
/// its check of a silent connection (a `NOTIFY` from another connection,
/// not heard), said at WARN, counted as a reconnect and shown in its
/// state; the new listeners it makes meanwhile hear nothing either and
/// are refused, each said; once one hears, it reads the hold published
/// meanwhile from the table.
#[tokio::test]
async fn a_listener_that_stops_hearing_is_made_again_and_reads_what_it_missed() {
    replica!(A: PARTNER_A = "partner");
    replica!(B.with_check_every(Duration::from_millis(300)): PARTNER_B = "partner");
    let logs = testkit::capture::capture();
    let (pool, url) = database_and_url().await;
    A.start(pool.clone(), "a".into()).await.unwrap();
    let (proxied, deaf) = deafening_proxy(&url).await;
    let b_listener = pool_of(&proxied, 3).await;
    B.start_with_listener(pool.clone(), b_listener, "b".into())
        .await
        .unwrap();
    let pid = B.listener_pid();

    deaf.send_replace(true);
    let _ = partner_calls(&PARTNER_A).decide(0, &too_many_requests(Duration::from_secs(30)));
    eventually("A to publish", || A.counts().published == 1).await;
    eventually("B to find it does not hear", || {
        !logs
            .matching(Level::WARN, "the listener cannot reconnect")
            .is_empty()
    })
    .await;
    let failed = logs.matching(Level::WARN, "the listener's connection failed");
    assert_eq!(failed.len(), 1, "{:?}", logs.lines());
    assert!(
        failed[0]
            .contains("the listener did not hear a NOTIFY sent from another connection in 300ms"),
        "{}",
        failed[0]
    );
    let retried = logs.matching(Level::WARN, "the listener cannot reconnect");
    assert!(
        retried[0].contains("LISTEN needs a session of its own"),
        "{}",
        retried[0]
    );
    assert_eq!(B.listener(), ListenerState::Reconnecting);
    assert_eq!(B.counts().reconnects, 1, "{:?}", B.counts());
    assert_eq!(PARTNER_B.remaining(), None, "B heard nothing");

    deaf.send_replace(false);
    eventually("B's partner cooldown to hold", || {
        PARTNER_B.remaining().is_some()
    })
    .await;
    assert_eq!(B.listener(), ListenerState::Listening);
    let counts = B.counts();
    assert_eq!((counts.caught_up, counts.received), (1, 0), "{counts:?}");
    assert_ne!(B.listener_pid(), pid, "a new listener");
}

/// A TCP proxy to the server of `url` (without TLS: it reads the
/// server's messages): the URL through it, and a switch that, while on,
/// drops every notification (`NotificationResponse`) the server sends its
/// clients; the rest goes through.
async fn deafening_proxy(url: &str) -> (String, tokio::sync::watch::Sender<bool>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut proxied = reqwest::Url::parse(url).unwrap();
    let server = format!(
        "{}:{}",
        proxied.host_str().unwrap(),
        proxied.port().unwrap_or(5432)
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    proxied
        .set_port(Some(listener.local_addr().unwrap().port()))
        .unwrap();
    proxied.set_query(Some("sslmode=disable"));
    let (deaf, _) = tokio::sync::watch::channel(false);
    let switch = deaf.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(upstream) = tokio::net::TcpStream::connect(&server).await else {
                continue;
            };
            let (mut client_read, mut client_write) = client.into_split();
            let (mut server_read, mut server_write) = upstream.into_split();
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
            });
            let deaf = switch.subscribe();
            tokio::spawn(async move {
                // each message: its type, its length (itself included), its body
                let mut head = [0u8; 5];
                while server_read.read_exact(&mut head).await.is_ok() {
                    let len = u32::from_be_bytes(head[1..].try_into().unwrap()) as usize;
                    let mut body = vec![0u8; len.saturating_sub(4)];
                    if server_read.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    if head[0] == b'A' && *deaf.borrow() {
                        continue;
                    }
                    if client_write.write_all(&head).await.is_err()
                        || client_write.write_all(&body).await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (proxied.to_string(), deaf)
}

/// A listener that cannot reconnect at once (the database refuses
/// connections for a while: a failover, a restart) says so, tries again,
/// waiting longer each time, and once back reads the hold published while
/// it was away from the table: applied, though its `NOTIFY` reached no one.
#[tokio::test]
async fn a_hold_published_while_a_listener_cannot_reconnect_is_read_once_it_is_back() {
    replica!(A: PARTNER_A = "partner");
    replica!(B: PARTNER_B = "partner");
    let logs = testkit::capture::capture();
    let (pool, url) = database_and_url().await;
    A.start(pool.clone(), "a".into()).await.unwrap();
    // B's listener's pool of its own, of one connection: once it is cut,
    // it needs a new one, which the database refuses (its checks, a
    // NOTIFY from another connection, go through the test's pool)
    let b_pool = pool_of(&url, 1).await;
    B.start_with_listener(pool.clone(), b_pool, "b".into())
        .await
        .unwrap();
    // (a connection of the test's pool, left idle: A's publisher takes it
    // while the database refuses new ones)
    let name: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&pool)
        .await
        .unwrap();
    let refused = refuse_connections_and_cut(&name, B.listener_pid()).await;
    let _ = partner_calls(&PARTNER_A).decide(0, &too_many_requests(Duration::from_secs(30)));
    eventually("A to publish", || A.counts().published == 1).await;
    eventually("B to notice", || B.counts().reconnects == 1).await;
    eventually("B to fail to reconnect", || {
        !logs
            .matching(Level::WARN, "the listener cannot reconnect")
            .is_empty()
    })
    .await;
    assert_eq!(PARTNER_B.remaining(), None, "B is away");
    assert_eq!(B.listener(), ListenerState::Reconnecting);

    refused.allow_again().await;
    eventually("B's partner cooldown to hold", || {
        PARTNER_B.remaining().is_some()
    })
    .await;
    assert_eq!(B.listener(), ListenerState::Listening);
    let counts = B.counts();
    assert_eq!((counts.caught_up, counts.received), (1, 0), "{counts:?}");
    logs.assert_logged(Level::WARN, "the listener's connection failed");
    eventually("B to say it listens again", || {
        !logs
            .matching(Level::INFO, "the listener is listening again")
            .is_empty()
    })
    .await;
}

/// A service that closes its pool (at shutdown, or to make a new one)
/// stops its listener, which says so, in its log and its state: a closed
/// pool never opens again, and the listener would try it forever, a WARN
/// line every 10 s. It is no reconnect: an alert on
/// `retry_shared_holds_reconnects_total` would fire at every shutdown.
#[tokio::test]
async fn closing_the_pool_stops_the_listener() {
    replica!(A: PARTNER_A = "partner");
    let logs = testkit::capture::capture();
    let pool = database().await;
    assert_eq!(A.listener(), ListenerState::NotStarted);
    A.start(pool.clone(), "a".into()).await.unwrap();
    assert_eq!(A.listener(), ListenerState::Listening);

    pool.close().await;
    eventually("the listener to stop", || {
        A.listener() == ListenerState::Stopped
    })
    .await;
    logs.assert_logged(Level::INFO, "the pool is closed: the listener stops");
    // the quiet shutdown the guide shows: no WARN of a runtime ended under it
    logs.assert_not_logged("the listener stopped with its tokio runtime");
    assert!(
        logs.matching(Level::WARN, "the listener cannot reconnect")
            .is_empty(),
        "{:?}",
        logs.lines()
    );
    assert_eq!(A.counts().reconnects, 0, "{:?}", A.counts());
    let _ = &PARTNER_A;
}

/// A listener whose tokio runtime shuts down (the service's, at its end;
/// or a runtime that was never the service's: a `block_on` at start-up, a
/// test's) ends with it, and so does the publisher: the service sees it in
/// `listener()` (and the gauge `retry_shared_holds_listening`), not only
/// in a log line, and the hook's holds are counted as dropped.
#[test]
fn a_listener_whose_runtime_shuts_down_says_it_stopped() {
    replica!(A: PARTNER_A = "partner");
    let logs = testkit::capture::capture();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let pool = database().await;
        A.start(pool, "a".into()).await.unwrap();
    });
    assert_eq!(A.listener(), ListenerState::Listening);

    drop(runtime);
    assert_eq!(A.listener(), ListenerState::Stopped);
    logs.assert_logged(Level::WARN, "the listener stopped with its tokio runtime");
    let _ = partner_calls(&PARTNER_A).decide(0, &too_many_requests(Duration::from_secs(30)));
    assert_eq!(
        A.counts(),
        Counts {
            dropped: 1,
            ..Counts::default()
        }
    );
    logs.assert_logged(
        Level::WARN,
        "hold not forwarded to the other replicas: its publisher has stopped",
    );
}

/// `start` awaited outside a tokio runtime (another executor's
/// `block_on`, a runtime's context left) is refused, saying where it
/// must run, instead of panicking inside sqlx ("this functionality
/// requires a Tokio context"); once in the runtime, it starts.
#[test]
fn a_start_outside_a_tokio_runtime_is_refused_not_a_panic() {
    replica!(A: PARTNER_A = "partner");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pool = runtime.block_on(database());

    // polled here, outside the runtime
    let start = std::pin::pin!(A.start(pool.clone(), "a".into()));
    let polled = start.poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
    let std::task::Poll::Ready(Err(err)) = polled else {
        panic!("refused at once: {polled:?}");
    };
    assert!(err.to_string().contains("tokio runtime"), "{err}");
    assert_eq!(A.listener(), ListenerState::NotStarted);

    runtime.block_on(A.start(pool, "a".into())).unwrap();
    assert_eq!(A.listener(), ListenerState::Listening);
    let _ = &PARTNER_A;
}

/// A `SharedHolds` whose listener stopped for good (its runtime shut
/// down: a test's, a `block_on`'s at start-up; or its pool closed, to make
/// a new one) starts again in another runtime, with another pool: its
/// holds are shared again, not refused as "shared already" for the rest of
/// the process.
#[test]
fn a_shared_holds_that_stopped_starts_again() {
    replica!(A: PARTNER_A = "partner");
    replica!(B: PARTNER_B = "partner");
    let runtime = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    };
    let first = runtime();
    first.block_on(async {
        let pool = database().await;
        A.start(pool, "a".into()).await.unwrap();
    });
    drop(first);
    assert_eq!(A.listener(), ListenerState::Stopped);

    runtime().block_on(async {
        let pool = database().await;
        A.start(pool.clone(), "a".into()).await.unwrap();
        assert_eq!(A.listener(), ListenerState::Listening);
        // and once more, after its pool is closed
        pool.close().await;
        eventually("A's listener to stop", || {
            A.listener() == ListenerState::Stopped
        })
        .await;
        let pool = PgPool::connect(&testkit::pg::fresh_database("replicas").await)
            .await
            .unwrap();
        sqlx::query(shared_holds::TABLE)
            .execute(&pool)
            .await
            .unwrap();
        A.start(pool.clone(), "a".into()).await.unwrap();
        B.start(pool.clone(), "b".into()).await.unwrap();
        let _ = partner_calls(&PARTNER_A).decide(0, &too_many_requests(Duration::from_secs(30)));
        eventually("B to hold A's", || PARTNER_B.remaining().is_some()).await;
        assert_eq!(A.counts().published, 1, "{:?}", A.counts());
    });
}

/// A `SharedHolds` started again in the same process (its first runtime
/// gone) holds its own holds already, in its cooldowns' statics: its read
/// of the table skips its own rows, as a reconnect's does, instead of
/// applying, counting and logging each again ("hold read from the
/// table"). Only a process's first start takes its own back (a replica
/// restarted under its name).
#[test]
fn a_shared_holds_started_again_skips_its_own_rows() {
    replica!(A: PARTNER_A = "partner");
    let logs = testkit::capture::capture();
    let runtime = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    };
    let first = runtime();
    let url = first.block_on(async {
        let (pool, url) = database_and_url().await;
        A.start(pool, "a".into()).await.unwrap();
        let _ = partner_calls(&PARTNER_A).decide(0, &too_many_requests(Duration::from_secs(30)));
        eventually("A to publish", || A.counts().published == 1).await;
        url
    });
    drop(first);

    runtime().block_on(async {
        let pool = PgPool::connect(&url).await.unwrap();
        A.start(pool, "a".into()).await.unwrap();
    });
    assert!(PARTNER_A.remaining().is_some());
    assert_eq!(A.counts().caught_up, 0, "{:?}", A.counts());
    assert!(
        logs.matching(Level::INFO, "hold read from the table")
            .is_empty(),
        "{:?}",
        logs.lines()
    );
}

/// What is not a hold of ours on the channel (a payload of the wrong
/// shape, a wait that is no number of milliseconds or longer than an hour,
/// a cooldown this replica does not have) is refused without panicking,
/// counted and logged (each line here: `with_log_every(ZERO)`); the next
/// hold is applied.
#[tokio::test]
async fn payloads_it_cannot_read_and_unknown_cooldowns_are_refused_counted_and_logged() {
    replica!(B.with_log_every(Duration::ZERO): PARTNER_B = "partner");
    let logs = testkit::capture::capture();
    let pool = database().await;
    B.start(pool.clone(), "b".into()).await.unwrap();

    let long = format!("x partner {}", "9".repeat(150));
    let bad = [
        "",
        "garbage",
        "x partner",
        "x partner -5",
        "x partner 12abc",
        "x partner 1.5",
        "x partner 99999999999999999999999", // past u64
        "x partner 3600001",                 // an hour and a millisecond
        " partner 5000",                     // no replica
        long.as_str(),
    ];
    let mut conn = pool.acquire().await.unwrap();
    for payload in bad
        .iter()
        .copied()
        .chain(["x nosuch 5000", "x partner 25000"])
    {
        // each its own transaction: delivered in this order
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(shared_holds::CHANNEL)
            .bind(payload)
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    eventually("B's partner cooldown to hold", || {
        PARTNER_B.remaining().is_some()
    })
    .await;
    assert_eq!(
        B.counts(),
        Counts {
            refused: bad.len() as u64,
            unknown: 1,
            received: 1,
            ..Counts::default()
        }
    );
    let logged = |why: &str| {
        logs.matching(Level::WARN, &format!("hold refused: {why}"))
            .len()
    };
    assert_eq!(logged("not `<replica> <cooldown> <wait_ms>`"), 4);
    assert_eq!(logged("its wait is not a number of milliseconds"), 3);
    assert_eq!(logged("its wait is longer than an hour"), 3);
    let unknown = logs.assert_logged(Level::WARN, "hold refused: no cooldown of that name here");
    assert_eq!(
        testkit::capture::field(&unknown, "cooldown"),
        Some("\"nosuch\"")
    );
    // a long payload is logged cut, escaped
    assert!(
        logs.lines()
            .iter()
            .filter_map(|l| testkit::capture::field(l, "payload"))
            .any(|payload| payload.ends_with("999\"..."))
    );
}

/// A storm of payloads it cannot read (a sender of garbage on the
/// channel) is counted whole, but logged once: the first line, then at
/// most one each 10 s, naming how many were left unsaid. With a shorter
/// interval, the storm's tail is told by a summary line: the lines written
/// and the numbers they name add up to every payload refused.
#[tokio::test]
async fn a_storm_of_refused_payloads_is_counted_whole_and_logged_once() {
    replica!(B: PARTNER_B = "partner");
    replica!(C.with_log_every(Duration::from_millis(500)).with_check_every(Duration::from_millis(100)): PARTNER_C = "partner");
    let logs = testkit::capture::capture();
    let pool = database().await;
    B.start(pool.clone(), "b".into()).await.unwrap();
    C.start(pool.clone(), "c".into()).await.unwrap();

    let mut conn = pool.acquire().await.unwrap();
    for i in 0..40 {
        let payload = if i % 4 == 3 {
            format!("x nosuch-{i} 5000")
        } else {
            format!("garbage {i}")
        };
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(shared_holds::CHANNEL)
            .bind(payload)
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    let refused = |c: Counts| (c.refused, c.unknown);
    eventually("B and C to refuse them all", || {
        refused(B.counts()) == (30, 10) && refused(C.counts()) == (30, 10)
    })
    .await;
    // (B's and C's lines apart by their `payload` or `cooldown` field: the
    // test's capture has both)
    let refusals = logs.matching(
        Level::WARN,
        "hold refused: not `<replica> <cooldown> <wait_ms>`",
    );
    let unknown = logs.matching(Level::WARN, "hold refused: no cooldown of that name here");
    // at most two each (B's first, C's first; C's second if the storm
    // outlasted its 500 ms), not 30 and 10 each
    assert!((2..=3).contains(&refusals.len()), "{refusals:?}");
    assert!((2..=3).contains(&unknown.len()), "{unknown:?}");

    // C's lines add up to every payload refused, once its summary is out:
    // each line written is one, and names how many it left unsaid (B's one
    // line of each, its first, names none: B tells its tail after 10 s)
    let unsaid = |lines: &[String]| -> u64 {
        lines
            .iter()
            .map(|l| {
                testkit::capture::field(l, "unsaid")
                    .unwrap()
                    .parse::<u64>()
                    .unwrap()
            })
            .sum()
    };
    let told = |line: &str, summary: &str| {
        let lines = logs.matching(Level::WARN, line);
        let summaries = logs.matching(Level::WARN, summary);
        lines.len() as u64 - 1 + unsaid(&lines) + unsaid(&summaries)
    };
    let refused_told = || {
        told(
            "hold refused: not `<replica>",
            "more payloads refused since the last such line",
        )
    };
    let unknown_told = || {
        told(
            "hold refused: no cooldown",
            "more holds refused for a cooldown not here since",
        )
    };
    eventually("C to tell the storm's tail", || {
        refused_told() >= 30 && unknown_told() >= 10
    })
    .await;
    assert_eq!(
        (refused_told(), unknown_told()),
        (30, 10),
        "{:?}",
        logs.lines()
    );
}

/// The tail of a storm is told by its summary line while the listener
/// cannot reconnect too (the database away: the storm's very cause, often),
/// not only once it is back: the lines left unsaid before the outage are
/// named within the interval.
#[tokio::test]
async fn the_tail_of_a_storm_is_told_while_the_listener_cannot_reconnect() {
    replica!(B.with_log_every(Duration::from_secs(2)): PARTNER_B = "partner");
    let logs = testkit::capture::capture();
    let (pool, url) = database_and_url().await;
    // (its listener's pool of one connection: cut, it needs a new one)
    let b_pool = pool_of(&url, 1).await;
    B.start_with_listener(pool.clone(), b_pool, "b".into())
        .await
        .unwrap();
    let mut conn = pool.acquire().await.unwrap();
    for i in 0..5 {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(shared_holds::CHANNEL)
            .bind(format!("garbage {i}"))
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    eventually("B to refuse them", || B.counts().refused == 5).await;

    // the database refuses B's connections, and B's listener is cut
    let name: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    let refused = refuse_connections_and_cut(&name, B.listener_pid()).await;
    eventually("B to fail to reconnect", || {
        !logs
            .matching(Level::WARN, "the listener cannot reconnect")
            .is_empty()
    })
    .await;
    eventually("the storm's tail to be told", || {
        !logs
            .matching(
                Level::WARN,
                "4 more payloads refused since the last such line",
            )
            .is_empty()
    })
    .await;
    assert_eq!(B.listener(), ListenerState::Reconnecting);
    refused.allow_again().await;
    let _ = &PARTNER_B;
}

/// A storm of holds the hook cannot hand on (its publisher not started,
/// stopped, or its queue full: the database away during a 429 storm) is
/// counted whole and logged once.
#[tokio::test]
async fn a_storm_of_holds_not_forwarded_is_counted_whole_and_logged_once() {
    replica!(IDLE: PARTNER_IDLE = "partner");
    let logs = testkit::capture::capture();
    let calls = partner_calls(&PARTNER_IDLE);
    // each longer: each holds longer, so each is told to the hook
    for secs in 1..=50 {
        let _ = calls.decide(0, &too_many_requests(Duration::from_secs(secs)));
    }
    assert_eq!(
        IDLE.counts(),
        Counts {
            dropped: 50,
            ..Counts::default()
        }
    );
    let lines = logs.matching(Level::WARN, "hold not forwarded to the other replicas");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(testkit::capture::field(&lines[0], "wait_ms"), Some("1000"));
}

/// The hook never blocks a run: a hold it cannot hand on (its queue full,
/// the publisher not started) is counted and logged; the holds queued
/// together for one cooldown go out as one statement.
#[tokio::test]
async fn a_hold_the_hook_cannot_hand_on_is_counted_and_logged() {
    replica!(A.with_capacity(2): PARTNER_A = "partner");
    replica!(IDLE: PARTNER_IDLE = "partner");
    let logs = testkit::capture::capture();
    let pool = database().await;
    A.start(pool.clone(), "a".into()).await.unwrap();

    // three holds, each longer, with no await between them: the publisher
    // (a task of this thread's runtime) takes none before the third
    let calls = partner_calls(&PARTNER_A);
    for secs in [20, 25, 30] {
        let _ = calls.decide(0, &too_many_requests(Duration::from_secs(secs)));
    }
    assert_eq!(
        A.counts(),
        Counts {
            handed_on: 2,
            dropped: 1,
            ..Counts::default()
        }
    );
    let line = logs.assert_logged(
        Level::WARN,
        "hold not forwarded to the other replicas: the publisher's queue is full",
    );
    assert_eq!(testkit::capture::field(&line, "wait_ms"), Some("30000"));
    eventually("A to publish", || A.counts().published == 1).await;
    eventually("A to skip its own", || A.counts().own == 1).await;
    assert_eq!(
        A.counts(),
        Counts {
            handed_on: 2,
            dropped: 1,
            published: 1,
            coalesced: 1,
            own: 1,
            ..Counts::default()
        }
    );

    // a replica whose SharedHolds is not started
    let _ = partner_calls(&PARTNER_IDLE).decide(0, &too_many_requests(Duration::from_secs(20)));
    assert_eq!(
        IDLE.counts(),
        Counts {
            dropped: 1,
            ..Counts::default()
        }
    );
    logs.assert_logged(
        Level::WARN,
        "hold not forwarded to the other replicas: its publisher is not started",
    );
}

/// The hook runs on the run's thread, in its retry: handing a hold on
/// (queued and counted, on the `metrics` facade too) allocates nothing,
/// with the metrics enabled and no recorder installed, as a run's retry
/// does not. (Its first hold warms the queue: the channel's first block.)
#[tokio::test]
async fn handing_a_hold_on_allocates_nothing_with_the_metrics_on() {
    replica!(A.with_capacity(64): PARTNER_A = "partner");
    let pool = database().await;
    A.start(pool.clone(), "a".into()).await.unwrap();
    retry_runtime::metrics::enable();
    let calls = partner_calls(&PARTNER_A);
    // each longer: each holds longer, so each is told to the hook
    let errors: Vec<HttpError> = (20..26)
        .map(|secs| too_many_requests(Duration::from_secs(secs)))
        .collect();
    let _ = calls.decide(0, &errors[0]);
    for err in &errors[1..] {
        let (n, _) = testkit::alloc::allocations_in(|| calls.decide(0, err));
        assert_eq!(n, 0, "{err:?}");
    }
    assert_eq!(A.counts().handed_on, 6);
}

/// A hold dropped from a full queue is the latest (each hold the hook is
/// told of ends later than the one before): the holds still queued end
/// sooner. The cooldown's own end goes out with them, so the other
/// replicas hold as long as the replica that heard the 429s, not only as
/// long as the queue's last hold.
#[tokio::test]
async fn a_hold_dropped_from_a_full_queue_goes_out_with_the_next_one_queued() {
    replica!(A.with_capacity(1): PARTNER_A = "partner");
    replica!(B: PARTNER_B = "partner");
    let pool = database().await;
    A.start(pool.clone(), "a".into()).await.unwrap();
    B.start(pool.clone(), "b".into()).await.unwrap();

    // no await between them: the publisher (a task of this thread) takes
    // none before the last; the first is queued, the others dropped
    let calls = partner_calls(&PARTNER_A);
    for secs in [20, 25, 30] {
        let _ = calls.decide(0, &too_many_requests(Duration::from_secs(secs)));
    }
    assert_eq!((A.counts().handed_on, A.counts().dropped), (1, 2));
    eventually("B to hold A's", || B.counts().received == 1).await;
    let (a_left, b_left) = (
        PARTNER_A.remaining().unwrap(),
        PARTNER_B.remaining().unwrap(),
    );
    assert!(
        b_left > Duration::from_secs(25) && b_left + Duration::from_secs(5) > a_left,
        "A {a_left:?}, B {b_left:?}"
    );
}

/// A hold over before the publisher could send it (here 2 ms, with the
/// runtime's only thread kept busy for 20) is not sent: it would hold the
/// others for nothing. It is counted and logged.
#[tokio::test]
async fn a_hold_over_before_it_is_sent_is_counted_not_sent() {
    replica!(A: PARTNER_A = "partner");
    let logs = testkit::capture::capture();
    let pool = database().await;
    A.start(pool.clone(), "a".into()).await.unwrap();

    let brief = too_many_requests(Duration::ZERO).with_retry_after(Some(Duration::from_millis(2)));
    let _ = partner_calls(&PARTNER_A).decide(0, &brief);
    // the publisher is a task of this thread: it runs at the next await
    std::thread::sleep(Duration::from_millis(20));
    eventually("A's publisher to take it", || A.counts().expired == 1).await;
    assert_eq!(
        A.counts(),
        Counts {
            handed_on: 1,
            expired: 1,
            ..Counts::default()
        }
    );
    logs.assert_logged(
        Level::WARN,
        "hold not published: it was over before it could be sent",
    );
}

/// A hold whose statement fails (here the table is gone: a Permanent
/// error, not retried) is counted and logged: the other replicas will not
/// hold, and the log says so.
#[tokio::test]
async fn a_hold_the_database_refuses_is_counted_and_logged() {
    replica!(A: PARTNER_A = "partner");
    let logs = testkit::capture::capture();
    let pool = database().await;
    A.start(pool.clone(), "a".into()).await.unwrap();
    sqlx::query("DROP TABLE cooldown_holds")
        .execute(&pool)
        .await
        .unwrap();

    let _ = partner_calls(&PARTNER_A).decide(0, &too_many_requests(Duration::from_secs(30)));
    eventually("A's publisher to give up", || A.counts().failed == 1).await;
    assert_eq!(
        A.counts(),
        Counts {
            handed_on: 1,
            failed: 1,
            ..Counts::default()
        }
    );
    let line = logs.assert_logged(
        Level::WARN,
        "hold not published: the other replicas will not hold",
    );
    assert_eq!(testkit::capture::field(&line, "cooldown"), Some("partner"));
}

/// A storm of holds whose statement fails (the table gone, or not
/// migrated; the pool closed at shutdown while runs still hear 429s: each
/// a Permanent error, failed at once) is counted whole and logged once an
/// interval, as the other storms are, not a WARN line a hold.
#[tokio::test]
async fn a_storm_of_holds_the_database_refuses_is_counted_whole_and_logged_once() {
    replica!(A: PARTNER_A = "partner");
    let logs = testkit::capture::capture();
    let pool = database().await;
    A.start(pool.clone(), "a".into()).await.unwrap();
    sqlx::query("DROP TABLE cooldown_holds")
        .execute(&pool)
        .await
        .unwrap();

    let calls = partner_calls(&PARTNER_A);
    // each longer, each sent alone (not coalesced with the next)
    for secs in 1..=20 {
        let _ = calls.decide(0, &too_many_requests(Duration::from_secs(secs)));
        eventually("A's publisher to give up", || A.counts().failed == secs).await;
    }
    let lines = logs.matching(
        Level::WARN,
        "hold not published: the other replicas will not hold",
    );
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(testkit::capture::field(&lines[0], "unsaid"), Some("0"));
}

/// A table made for the worked example this feature was made from (no
/// `sender` column): `start` refuses it, naming the `ALTER TABLE` that
/// `TABLE`'s docs give, not PostgreSQL's bare "column does not exist";
/// once altered, the holds are shared, the old rows (naming no replica)
/// applied by every replica.
#[tokio::test]
async fn a_table_without_the_sender_column_is_refused_at_start_naming_the_migration() {
    replica!(A: PARTNER_A = "partner");
    replica!(B: PARTNER_B = "partner");
    let url = testkit::pg::fresh_database("replicas").await;
    let pool = PgPool::connect(&url).await.unwrap();
    sqlx::query(
        "CREATE TABLE cooldown_holds (
            channel  TEXT        NOT NULL,
            cooldown TEXT        NOT NULL,
            until    TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (channel, cooldown)
        )",
    )
    .execute(&pool)
    .await
    .unwrap();
    // a hold an old replica kept (its INSERT names no sender)
    sqlx::query(
        "INSERT INTO cooldown_holds (channel, cooldown, until)
         VALUES ('cooldown_holds', 'partner', now() + interval '30 seconds')",
    )
    .execute(&pool)
    .await
    .unwrap();

    let err = A.start(pool.clone(), "a".into()).await.unwrap_err();
    let migration =
        "ALTER TABLE cooldown_holds ADD COLUMN IF NOT EXISTS sender TEXT NOT NULL DEFAULT ''";
    assert!(err.to_string().contains(migration), "{err}");
    assert_eq!(A.listener(), ListenerState::NotStarted);

    sqlx::query(migration).execute(&pool).await.unwrap();
    A.start(pool.clone(), "a".into()).await.unwrap();
    B.start(pool.clone(), "b".into()).await.unwrap();
    assert!(PARTNER_A.remaining().is_some() && PARTNER_B.remaining().is_some());
    let _ = partner_calls(&PARTNER_A).decide(0, &too_many_requests(Duration::from_secs(40)));
    eventually("B to hold A's", || B.counts().received == 1).await;
    assert_eq!(A.counts().failed, 0);
}

/// A database without the holds' table (the migration forgotten): `start`
/// refuses it with an error that names `shared_holds::TABLE`, not
/// PostgreSQL's bare "relation does not exist"; once it is made, it starts.
#[tokio::test]
async fn a_database_without_the_table_is_refused_at_start_naming_it() {
    replica!(A: PARTNER_A = "partner");
    let url = testkit::pg::fresh_database("replicas").await;
    let pool = PgPool::connect(&url).await.unwrap();

    let err = A.start(pool.clone(), "a".into()).await.unwrap_err();
    assert!(matches!(err, sqlx::Error::Configuration(_)), "{err:?}");
    assert!(err.to_string().contains("shared_holds::TABLE"), "{err}");
    assert_eq!(A.listener(), ListenerState::NotStarted);

    sqlx::query(shared_holds::TABLE)
        .execute(&pool)
        .await
        .unwrap();
    A.start(pool.clone(), "a".into()).await.unwrap();
    assert_eq!(A.listener(), ListenerState::Listening);
    let _ = &PARTNER_A;
}

/// A channel PostgreSQL cannot notify on (64 bytes or more: `LISTEN`
/// truncates it with a NOTICE, and `pg_notify` refuses it, "channel name
/// too long", so every hold would fail to publish) is refused by `start`,
/// before anything connects; so is an empty one.
#[tokio::test]
async fn a_channel_postgresql_cannot_notify_on_is_refused_at_start() {
    const LONG: &str = "cooldown_holds_of_the_billing_service_and_its_partners_in_europe";
    assert_eq!(LONG.len(), 64);
    replica!(LONG_NAMED.with_channel(LONG): PARTNER_LONG = "partner");
    replica!(EMPTY.with_channel(""): PARTNER_EMPTY = "partner");
    let pool = database().await;
    for shared in [&LONG_NAMED, &EMPTY] {
        let err = shared.start(pool.clone(), "a".into()).await.unwrap_err();
        assert!(err.to_string().contains("a channel's name"), "{err}");
    }
    let _ = (&PARTNER_LONG, &PARTNER_EMPTY);
}

/// A replica's name goes first in its payloads: one with whitespace, or
/// none, is refused before anything connects; so is a second start, and
/// every start after it (a refused start leaves the running one's claim
/// alone: a third must not run a second listener).
#[tokio::test]
async fn a_replica_name_with_whitespace_or_a_second_start_is_refused() {
    replica!(A: PARTNER_A = "partner");
    let pool = database().await;
    for name in ["", "pod 7", "pod\t7"] {
        let err = A.start(pool.clone(), name.into()).await.unwrap_err();
        assert!(err.to_string().contains("no whitespace"), "{err}");
    }
    A.start(pool.clone(), "a".into()).await.unwrap();
    let pid = A.listener_pid();
    for _ in 0..3 {
        let err = A.start(pool.clone(), "a".into()).await.unwrap_err();
        assert!(err.to_string().contains("shared already"), "{err}");
    }
    assert_eq!(A.listener_pid(), pid, "the running listener's");
}

/// Two `start`s of one `SharedHolds` at once (two start-up paths of a
/// service racing): one shares the holds, the other is refused before it
/// connects, so the holds still running are read and applied once, and
/// `listener_pid()` is the listener's that runs (cutting it makes it
/// reconnect), not that of a listener made and dropped by the refused one.
#[tokio::test]
async fn two_starts_at_once_share_the_holds_once() {
    replica!(A: PARTNER_A = "partner");
    replica!(X: PARTNER_X = "partner");
    let pool = database().await;
    X.start(pool.clone(), "x".into()).await.unwrap();
    let _ = partner_calls(&PARTNER_X).decide(0, &too_many_requests(Duration::from_secs(30)));
    eventually("X to publish", || X.counts().published == 1).await;

    let (first, second) = tokio::join!(
        A.start(pool.clone(), "a".into()),
        A.start(pool.clone(), "a".into())
    );
    assert!(first.is_ok() != second.is_ok(), "{first:?} {second:?}");
    let err = first.err().or(second.err()).unwrap();
    assert!(err.to_string().contains("shared already"), "{err}");
    assert!(PARTNER_A.remaining().is_some());
    assert_eq!(
        A.counts(),
        Counts {
            caught_up: 1,
            ..Counts::default()
        }
    );
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(A.listener_pid())
        .execute(&pool)
        .await
        .unwrap();
    eventually("A's listener to reconnect", || A.counts().reconnects == 1).await;
}

/// A cooldown handed to `SharedHolds` without a hook would never have its
/// runs' holds shared, and two of one name could not be told apart by the
/// other replicas: `start` refuses both, before anything connects.
#[tokio::test]
async fn a_cooldown_without_a_hook_or_of_another_s_name_is_refused_at_start() {
    static SILENT: Cooldown = Cooldown::new("silent");
    static NO_HOOK: SharedHolds = SharedHolds::new(&[&SILENT]);
    replica!(TWICE: FIRST = "partner", SECOND = "partner");
    let pool = database().await;
    let err = NO_HOOK.start(pool.clone(), "a".into()).await.unwrap_err();
    assert!(
        err.to_string().contains(r#"cooldown "silent" has no hook"#),
        "{err}"
    );
    let err = TWICE.start(pool.clone(), "a".into()).await.unwrap_err();
    assert!(
        err.to_string()
            .contains(r#"two cooldowns are named "partner""#),
        "{err}"
    );
    let _ = (&FIRST, &SECOND);
}

/// A cooldown named "" could never be shared: its payload, `<replica>
/// <cooldown> <wait_ms>`, would have an empty field, which every other
/// replica refuses (`Refused::Shape`, a WARN line each) while their
/// table reads apply it. `start` refuses it, before anything connects.
#[tokio::test]
async fn a_cooldown_with_an_empty_name_is_refused_at_start() {
    replica!(NAMELESS: NO_NAME = "", PARTNER = "partner");
    let pool = database().await;
    let err = NAMELESS.start(pool.clone(), "a".into()).await.unwrap_err();
    assert!(err.to_string().contains("a cooldown named \"\""), "{err}");
    assert_eq!(NAMELESS.listener(), ListenerState::NotStarted);
    let _ = (&NO_NAME, &PARTNER);
}

/// A pool of at most `max` connections to `url` (a proxy's, or the
/// database's own for a listener of its own).
async fn pool_of(url: &str, max: u32) -> PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(max)
        .connect(url)
        .await
        .unwrap()
}

/// A pool to `url` as a service behind PgBouncer in transaction pooling
/// makes it: no prepared statement kept (PgBouncer 1.20 and older run a
/// transaction's next statement on any server connection, which has not
/// prepared it).
async fn pool_through_bouncer(url: &str, max: u32) -> PgPool {
    let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(max)
        .connect_with(options.statement_cache_capacity(0))
        .await
        .unwrap()
}

/// PgBouncer in front of PostgreSQL, in transaction pooling, and the
/// pods' `DATABASE_URL` pointing at it: a `LISTEN` runs on a server
/// connection that goes back to PgBouncer's pool once it is done, and a
/// `NOTIFY` from another replica reaches whichever client holds that
/// connection then (its statement fails on it), or none. Before this
/// check, `start` succeeded and `listener()` said `Listening`, every
/// other replica's hold lost without a trace. Now `start` finds that its
/// listener does not hear a `NOTIFY` sent from another connection and
/// refuses, naming the fix; with the listener's connection straight to
/// PostgreSQL (`start_with_listener`) the holds are shared, the
/// publisher's statements going through PgBouncer.
async fn through_pgbouncer(
    server_connections: u32,
    (a, partner_a): (&'static SharedHolds, &'static Cooldown),
    (b, partner_b): (&'static SharedHolds, &'static Cooldown),
) {
    let (_, url) = database_and_url().await;
    let bouncer = testkit::pg::PgBouncer::start("transaction", server_connections);
    let a_pool = pool_through_bouncer(&bouncer.url(&url), 3).await;
    let b_pool = pool_through_bouncer(&bouncer.url(&url), 3).await;

    let refused = a.start(a_pool.clone(), "a".into()).await.unwrap_err();
    let message = refused.to_string();
    for says in [
        "the listener did not hear a NOTIFY sent from another connection in 1s",
        "LISTEN needs a session of its own",
        "PgBouncer's `pool_mode = transaction`",
        "`HOLDS.start_with_listener(pool, listener_pool, replica)`",
    ] {
        assert!(message.contains(says), "{says:?} in {message}");
    }
    assert_eq!(a.listener(), ListenerState::NotStarted);

    // the listeners straight to PostgreSQL, the rest through PgBouncer
    let direct = || pool_of(&url, 1);
    a.start_with_listener(a_pool, direct().await, "a".into())
        .await
        .unwrap();
    b.start_with_listener(b_pool, direct().await, "b".into())
        .await
        .unwrap();
    let _ = partner_calls(partner_a).decide(0, &too_many_requests(Duration::from_secs(30)));
    eventually("B's partner cooldown to hold", || {
        partner_b.remaining().is_some()
    })
    .await;
    assert_eq!(a.counts().failed, 0, "{:?}", a.counts());
    assert_eq!(b.counts().received, 1, "{:?}", b.counts());
    // (the listeners' checks, each second, heard their probes sent
    // through it)
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(
        (a.listener(), b.listener()),
        (ListenerState::Listening, ListenerState::Listening)
    );
    assert_eq!(a.counts().reconnects + b.counts().reconnects, 0);
}

/// What `start` used to meet behind PgBouncer, the guard's premise (a
/// PgBouncer that kept LISTEN's session would fail here, and the guard
/// would be worth a look again): with one server connection, a sqlx
/// `PgListener` through PgBouncer in transaction pooling LISTENs, and
/// its connection says it listens (`pg_listening_channels()`), yet a
/// `NOTIFY` sent from another connection never reaches it (PgBouncer
/// delivers it to the client that holds the listening server connection
/// then: here the sender, whose statement fails on it).
async fn a_listen_through_pgbouncer_says_it_listens_and_hears_nothing() {
    let (_, url) = database_and_url().await;
    let bouncer = testkit::pg::PgBouncer::start("transaction", 1);
    let pool = pool_through_bouncer(&bouncer.url(&url), 3).await;
    let mut listener = sqlx::postgres::PgListener::connect_with(&pool)
        .await
        .unwrap();
    listener.listen("holds_premise").await.unwrap();
    let listening: Vec<String> = sqlx::query_scalar("SELECT pg_listening_channels()")
        .persistent(false)
        .fetch_all(&mut listener)
        .await
        .unwrap();
    assert_eq!(listening, ["holds_premise"]);

    let sent = sqlx::query("SELECT pg_notify('holds_premise', 'a partner 30000')")
        .persistent(false)
        .execute(&pool)
        .await;
    let heard = tokio::time::timeout(Duration::from_millis(1500), listener.try_recv()).await;
    assert!(heard.is_err(), "heard through PgBouncer: {heard:?}");
    let error = sent.unwrap_err().to_string();
    assert!(error.contains("NotificationResponse"), "{error}");
}

/// [`through_pgbouncer`] with one server connection (every client's
/// statements run on the one that listens) and with three (a client's
/// run on any of them), and its premise
/// ([`a_listen_through_pgbouncer_says_it_listens_and_hears_nothing`]), at
/// once.
#[tokio::test]
async fn through_pgbouncer_in_transaction_pooling_start_refuses_a_listener_that_hears_nothing() {
    replica!(A1.with_check_every(Duration::from_secs(1)): PARTNER_A1 = "partner");
    replica!(B1.with_check_every(Duration::from_secs(1)): PARTNER_B1 = "partner");
    replica!(A3.with_check_every(Duration::from_secs(1)): PARTNER_A3 = "partner");
    replica!(B3.with_check_every(Duration::from_secs(1)): PARTNER_B3 = "partner");
    tokio::join!(
        a_listen_through_pgbouncer_says_it_listens_and_hears_nothing(),
        through_pgbouncer(1, (&A1, &PARTNER_A1), (&B1, &PARTNER_B1)),
        through_pgbouncer(3, (&A3, &PARTNER_A3), (&B3, &PARTNER_B3)),
    );
}

/// The test's database `name` refusing new connections (set from a
/// connection to the server's own database, kept to allow them again).
struct Refused {
    admin: PgConnection,
    name: String,
}

/// Refuses new connections to the database `name`, then cuts the
/// listener `pid`'s connection: it cannot reconnect until
/// [`Refused::allow_again`].
async fn refuse_connections_and_cut(name: &str, pid: i32) -> Refused {
    let mut admin = PgConnection::connect(testkit::pg::server_url())
        .await
        .unwrap();
    let refused = format!("ALTER DATABASE \"{name}\" WITH ALLOW_CONNECTIONS false");
    sqlx::query(&refused).execute(&mut admin).await.unwrap();
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .execute(&mut admin)
        .await
        .unwrap();
    Refused {
        admin,
        name: name.to_owned(),
    }
}

impl Refused {
    async fn allow_again(mut self) {
        let allowed = format!(
            "ALTER DATABASE \"{}\" WITH ALLOW_CONNECTIONS true",
            self.name
        );
        sqlx::query(&allowed)
            .execute(&mut self.admin)
            .await
            .unwrap();
    }
}

/// Behind PgBouncer in transaction pooling, a statement outside a
/// transaction is parsed on one server connection and may be run on
/// another (PgBouncer hands the connection back at each Sync): under
/// other clients' traffic the publisher's statement failed with
/// "unnamed prepared statement does not exist" (not retried: the hold
/// lost, `failed` counted), and so did the listener's check at start
/// (refused with advice about the listener's connection that was already
/// direct). In a transaction of their own, they stay on one.
#[tokio::test]
async fn through_pgbouncer_under_traffic_every_hold_is_published() {
    replica!(A.with_check_every(Duration::from_secs(1)): PARTNER_A = "partner");
    replica!(B.with_check_every(Duration::from_secs(1)): PARTNER_B = "partner");
    let (_, url) = database_and_url().await;
    let bouncer = testkit::pg::PgBouncer::start("transaction", 3);
    let through = bouncer.url(&url);
    let direct = || pool_of(&url, 1);
    // the service's own statements beside the holds, through PgBouncer
    // (their errors are theirs: they only keep the server connections
    // changing hands)
    let traffic = pool_through_bouncer(&through, 6).await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut others = Vec::new();
    for task in 0..6 {
        let (traffic, stop) = (traffic.clone(), stop.clone());
        others.push(tokio::spawn(async move {
            let mut n = 0_i32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = sqlx::query("SELECT $1::int + $2::int")
                    .bind(task)
                    .bind(n)
                    .persistent(false)
                    .execute(&traffic)
                    .await;
                n += 1;
            }
        }));
    }
    A.start_with_listener(
        pool_through_bouncer(&through, 3).await,
        direct().await,
        "a".into(),
    )
    .await
    .unwrap();
    B.start_with_listener(
        pool_through_bouncer(&through, 3).await,
        direct().await,
        "b".into(),
    )
    .await
    .unwrap();
    for second in 1..=40_u64 {
        // each a longer hold than the last: each published
        for partner in [&PARTNER_A, &PARTNER_B] {
            let _ = partner_calls(partner)
                .decide(0, &too_many_requests(Duration::from_secs(30 + second)));
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    eventually("every hold handed on to be sent", || {
        [&A, &B].iter().all(|holds| {
            let c = holds.counts();
            c.published + c.coalesced + c.failed + c.expired == c.handed_on
        })
    })
    .await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for other in others {
        other.await.unwrap();
    }
    assert_eq!(
        (A.counts().failed, B.counts().failed),
        (0, 0),
        "{:?} {:?}",
        A.counts(),
        B.counts()
    );
    assert!(
        A.counts().published > 1 && B.counts().published > 1,
        "{:?} {:?}",
        A.counts(),
        B.counts()
    );
}
