//! The recorder's side of a `SharedHolds`' metrics (features `metrics`
//! and `shared-holds`): its keys in a static table, as
//! [`recorder`](super::recorder)'s are, and what each event records.

use ::metrics::{Key, Label, Recorder};

use super::recorder::{Keys, META, Table};
use super::{SHARED_HOLDS, SHARED_HOLDS_LISTENING, SHARED_HOLDS_RECONNECTS};

/// The `event` labels of [`SHARED_HOLDS`]: `SharedHolds`' events.
const SHARED_EVENTS: [crate::shared_holds::Event; 11] = crate::shared_holds::Event::HOLDS;

/// The series of a `SharedHolds` on a channel: its events' by `channel`
/// and `event`, its reconnects' and its listener's by `channel`. Found in
/// a table, as a cooldown's are: a hold is handed on by the hook on the
/// run's thread, in its retry, which allocates nothing.
struct SharedKeys {
    channel: &'static str,
    events: [Key; SHARED_EVENTS.len()],
    reconnects: Key,
    listening: Key,
}

impl Keys for SharedKeys {
    /// `channel` and `event`, by event; `channel`.
    type Labels = ([[Label; 2]; SHARED_EVENTS.len()], [Label; 1]);
    fn name(&self) -> &'static str {
        self.channel
    }
    fn labels(channel: &'static str) -> Self::Labels {
        let channel = Label::from_static_parts("channel", channel);
        let events = SHARED_EVENTS.map(|event| {
            [
                channel.clone(),
                Label::from_static_parts("event", event.label()),
            ]
        });
        (events, [channel])
    }
    fn keys<'a>(
        channel: &'static str,
        (events, by_channel): &'a Self::Labels,
        key: impl Fn(&'static str, &'a [Label]) -> Key,
    ) -> Self {
        SharedKeys {
            channel,
            events: core::array::from_fn(|i| key(SHARED_HOLDS, &events[i])),
            reconnects: key(SHARED_HOLDS_RECONNECTS, by_channel),
            listening: key(SHARED_HOLDS_LISTENING, by_channel),
        }
    }
}

static SHARED: Table<SharedKeys, 8> = Table::new();

pub(super) fn counted(channel: &'static str, event: &'static str, by: u64) {
    ::metrics::with_recorder(|r: &dyn Recorder| {
        SHARED.with(channel, |keys| {
            let found = SHARED_EVENTS.iter().position(|e| e.label() == event);
            if let Some(key) = found.map(|i| &keys.events[i]) {
                r.register_counter(key, &META).increment(by);
            }
        });
    });
}

/// Every series of `channel` registered: its events' and its reconnects'
/// at 0, its listener's gauge at 0 unless it was set (an add of 0: a
/// refused second start leaves a running listener's 1 alone).
pub(super) fn registered(channel: &'static str) {
    ::metrics::with_recorder(|r: &dyn Recorder| {
        SHARED.with(channel, |keys| {
            for key in &keys.events {
                r.register_counter(key, &META).increment(0);
            }
            r.register_counter(&keys.reconnects, &META).increment(0);
            r.register_gauge(&keys.listening, &META).increment(0.0);
        });
    });
}

pub(super) fn reconnected(channel: &'static str) {
    ::metrics::with_recorder(|r: &dyn Recorder| {
        SHARED.with(channel, |keys| {
            r.register_counter(&keys.reconnects, &META).increment(1);
        });
    });
}

pub(super) fn listening(channel: &'static str, listening: bool) {
    ::metrics::with_recorder(|r: &dyn Recorder| {
        SHARED.with(channel, |keys| {
            r.register_gauge(&keys.listening, &META)
                .set(if listening { 1.0 } else { 0.0 });
            if listening {
                // (its reconnects' series from its first start)
                r.register_counter(&keys.reconnects, &META).increment(0);
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::super::recorder::ENABLED;
    use super::*;

    /// A `SharedHolds`' series: its events by `channel` and `event`, its
    /// reconnects and its listener's gauge by `channel`; the gauge 1
    /// while it listens, 0 once it does not, the reconnects' series there
    /// from its first start.
    #[test]
    fn a_shared_holds_series_are_by_channel_and_event() {
        use metrics_util::debugging::{DebugValue, DebuggingRecorder};
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        ENABLED.store(true, Ordering::Relaxed);
        let gauge = |snapshot: metrics_util::debugging::Snapshot| {
            let found = snapshot
                .into_vec()
                .into_iter()
                .find(|(key, ..)| key.key().name() == SHARED_HOLDS_LISTENING);
            found.map(|(.., value)| value)
        };
        ::metrics::with_local_recorder(&recorder, || {
            crate::metrics::shared_holds_registered("billing_holds");
            assert_eq!(
                gauge(snapshotter.snapshot()),
                Some(DebugValue::Gauge(0.0.into())),
                "at 0 before it listens"
            );
            crate::metrics::shared_holds_listening("billing_holds", true);
            // a second start, refused: the running listener's 1 stays
            crate::metrics::shared_holds_registered("billing_holds");
            assert_eq!(
                gauge(snapshotter.snapshot()),
                Some(DebugValue::Gauge(1.0.into()))
            );
            crate::metrics::shared_holds("billing_holds", "received");
            crate::metrics::shared_holds_reconnected("billing_holds");
            crate::metrics::shared_holds_listening("billing_holds", false);
        });
        let mut seen: Vec<(String, Vec<String>, DebugValue)> = snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .map(|(key, _, _, value)| {
                let labels = key
                    .key()
                    .labels()
                    .map(|l| format!("{}={}", l.key(), l.value()))
                    .collect();
                (key.key().name().to_owned(), labels, value)
            })
            .collect();
        seen.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        let channel = || "channel=billing_holds".to_owned();
        let mut expected = vec![
            (
                SHARED_HOLDS_LISTENING.to_owned(),
                vec![channel()],
                DebugValue::Gauge(0.0.into()),
            ),
            (
                SHARED_HOLDS_RECONNECTS.to_owned(),
                vec![channel()],
                DebugValue::Counter(1),
            ),
        ];
        // every event's series, at 0 but the one counted
        let mut events: Vec<&str> = SHARED_EVENTS.iter().map(|e| e.label()).collect();
        events.sort_unstable();
        for e in events {
            let count = u64::from(e == "received");
            expected.push((
                SHARED_HOLDS.to_owned(),
                vec![channel(), format!("event={e}")],
                DebugValue::Counter(count),
            ));
        }
        assert_eq!(seen, expected);
    }
}
