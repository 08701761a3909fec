//! The visits job's state, compiled: the same incremental visit building as
//! `truyvet.domain.matching.visit_builder.VisitBuilder` (the reference, in Python), with the
//! same methods and answers. Measured in docs/benchmarks.md ("ingest"): the Python builder was
//! most of the time the visits job held the interpreter lock, and the lock was what bounded a
//! worker running ingest and visits together.
//!
//! The rules (`truyvet.domain.matching.visits`): scans of a card in order of (time, event_id,
//! venue, direction); at most one open visit; an `in` opens one at its venue; an `out` at the
//! open visit's venue closes it; any other scan first closes the open visit at
//! min(t, opened + dwell); an `out` with nothing open at its venue makes
//! [max(t - dwell, previous scan's time), t]; a visit open after the last scan ends at
//! opened + dwell. Visits are a function of each pair of consecutive scans plus the last one,
//! which is what makes a late scan cheap: only the pairs around it change.
//! tests/unit/test_native_builder.py compares this builder with the reference on generated
//! scans (late, duplicated, conflicting, past the retention).

mod index_loader;
mod matching;

use std::collections::BTreeSet;
use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PySet, PyString, PyTuple};

const DAY_S: i64 = 86_400;

/// A scan as the rules see it. Field order is the sort order: (t, event_id, venue,
/// direction), "in" before "out", as Python compares the `Scan` tuples (UTF-8 byte order is
/// code point order).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Scan {
    t: i64,
    event_id: Arc<str>,
    venue: Arc<str>,
    out: bool,
}

struct Visit {
    venue: Arc<str>,
    start: i64,
    end: i64,
}

#[derive(Default)]
struct CardHistory {
    scans: Vec<Scan>,
    by_id: HashMap<Arc<str>, Scan>,
}

type Touched = BTreeSet<(Arc<str>, i64)>; // (venue, day), iterated sorted like Python's sorted()

/// dwell(venue): the same everywhere (`constant`), or from the Python callable, asked once
/// per venue per call into the builder (a venue's category may change between calls).
struct Dwell {
    function: PyObject,
    constant: Option<i64>,
    known: HashMap<Arc<str>, i64>,
}

impl Dwell {
    fn reset(&mut self) {
        if self.constant.is_none() {
            self.known.clear();
        }
    }

    fn of(&mut self, py: Python<'_>, venue: &Arc<str>) -> PyResult<i64> {
        if let Some(d) = self.constant {
            return Ok(d);
        }
        if let Some(&d) = self.known.get(venue) {
            return Ok(d);
        }
        let d: i64 = self.function.call1(py, (&**venue,))?.extract(py)?;
        self.known.insert(venue.clone(), d);
        Ok(d)
    }
}

/// The visits completed when `cur` is walked right after `prev` (visits.pair_visits).
fn pair_visits(
    py: Python<'_>, dwell: &mut Dwell, prev: Option<&Scan>, cur: &Scan, out: &mut Vec<Visit>,
) -> PyResult<()> {
    if let Some(p) = prev {
        if !p.out {
            if cur.out && cur.venue == p.venue {
                out.push(Visit { venue: p.venue.clone(), start: p.t, end: cur.t });
                return Ok(());
            }
            let d = dwell.of(py, &p.venue)?;
            out.push(Visit { venue: p.venue.clone(), start: p.t, end: cur.t.min(p.t + d) });
        }
    }
    if cur.out {
        let mut floor = cur.t - dwell.of(py, &cur.venue)?;
        if let Some(p) = prev {
            if p.t > floor {
                floor = p.t;
            }
        }
        out.push(Visit { venue: cur.venue.clone(), start: floor, end: cur.t });
    }
    Ok(())
}

/// The visit still open after the card's last scan, if any (visits.last_visit).
fn last_visit(py: Python<'_>, dwell: &mut Dwell, last: &Scan, out: &mut Vec<Visit>) -> PyResult<()> {
    if !last.out {
        let d = dwell.of(py, &last.venue)?;
        out.push(Visit { venue: last.venue.clone(), start: last.t, end: last.t + d });
    }
    Ok(())
}

/// Visits of the pair (prev, nxt); nxt None means prev is the card's last scan.
fn pair(
    py: Python<'_>, dwell: &mut Dwell, prev: Option<&Scan>, nxt: Option<&Scan>, out: &mut Vec<Visit>,
) -> PyResult<()> {
    match (prev, nxt) {
        (_, Some(n)) => pair_visits(py, dwell, prev, n, out),
        (Some(p), None) => last_visit(py, dwell, p, out),
        (None, None) => Ok(()),
    }
}

fn touch(visits: &[Visit], touched: &mut Touched) {
    for v in visits {
        touched.insert((v.venue.clone(), v.start.div_euclid(DAY_S)));
    }
}

fn position(scans: &[Scan], scan: &Scan) -> usize {
    scans.partition_point(|s| s < scan)
}

#[pyclass(module = "truyvet_native")]
pub struct VisitBuilder {
    dwell: Dwell,
    #[pyo3(get)]
    retention_s: i64,
    bucket_type: PyObject, // truyvet.codec.visits.Bucket, what apply() returns
    cards: HashMap<String, CardHistory>,
    venues: HashMap<String, Arc<str>>, // one string per venue, shared by its scans
    #[pyo3(get)]
    scans: i64, // scans held
    partitions: HashMap<Arc<str>, i64>, // venue -> its partition of visits.v1
}

/// A scan-by-card v1 record exactly as ingest writes it -- `[1, event_id, card_id, venue_id,
/// scanner_id, "in"|"out", scanned_at_ms, method]`, integers in 64 bits, strings -- as
/// (card, t, event_id, venue, out); None for anything else, which the codec then judges (a
/// subset of what `truyvet.codec.card_scan.decode` accepts, read the same).
fn read_card_scan(raw: &[u8]) -> Option<(String, i64, String, String, bool)> {
    type Record = (i64, String, String, String, String, String, i64, String);
    let (version, event_id, card, venue, _scanner, direction, at_ms, _method): Record =
        serde_json::from_slice(raw).ok()?;
    let out = match direction.as_str() {
        "in" => false,
        "out" => true,
        _ => return None,
    };
    if version != 1 {
        return None;
    }
    Some((card, at_ms.div_euclid(1000), event_id, venue, out))
}

/// A JSON string as orjson writes it: `"` and `\` escaped, \b \t \n \f \r, other control
/// characters as \u00xx (lower-case hex); everything else, DEL and non-ASCII included, as is.
fn write_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0x00..=0x1f => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 0xf) as usize]);
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// A visit bucket v1's value as `truyvet.codec.visits.encode` writes it (byte for byte).
fn write_bucket(out: &mut Vec<u8>, venue: &str, day: i64, card: &str, visits: &[(i64, i64)]) {
    out.extend_from_slice(b"{\"v\":1,\"venue_id\":");
    write_string(out, venue);
    out.extend_from_slice(format!(",\"day\":{day},\"card_id\":").as_bytes());
    write_string(out, card);
    out.extend_from_slice(b",\"visits\":[");
    for (i, (s, e)) in visits.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(format!("[{s},{e}]").as_bytes());
    }
    out.extend_from_slice(b"]}");
}

impl VisitBuilder {
    fn intern(&mut self, venue: String) -> Arc<str> {
        match self.venues.get(&venue) {
            Some(v) => v.clone(),
            None => {
                let v: Arc<str> = Arc::from(venue.as_str());
                self.venues.insert(venue, v.clone());
                v
            }
        }
    }

    /// A `Scan(t, event_id, venue, direction)` tuple, its strings read in place.
    fn to_scan(&mut self, scan: &Bound<'_, PyAny>) -> PyResult<Scan> {
        let scan = scan.downcast::<PyTuple>()?;
        if scan.len() != 4 {
            return Err(PyValueError::new_err("a scan is (t, event_id, venue, direction)"));
        }
        let t: i64 = scan.get_item(0)?.extract()?;
        let event_id = scan.get_item(1)?;
        let venue = scan.get_item(2)?;
        let direction = scan.get_item(3)?;
        let out = match direction.downcast::<PyString>()?.to_str()? {
            "in" => false,
            "out" => true,
            other => return Err(PyValueError::new_err(format!("direction {other:?}"))),
        };
        let venue = venue.downcast::<PyString>()?.to_str()?;
        let venue = match self.venues.get(venue) {
            Some(v) => v.clone(),
            None => {
                let v: Arc<str> = Arc::from(venue);
                self.venues.insert(venue.to_owned(), v.clone());
                v
            }
        };
        let event_id: Arc<str> = Arc::from(event_id.downcast::<PyString>()?.to_str()?);
        Ok(Scan { t, event_id, venue, out })
    }

    fn add_scan(
        &mut self, py: Python<'_>, card: &str, scan: Scan, now_s: i64, touched: &mut Touched,
    ) -> PyResult<()> {
        if scan.t < now_s - self.retention_s {
            return Ok(());
        }
        if !self.cards.contains_key(card) {
            self.cards.insert(card.to_owned(), CardHistory::default());
        }
        let dwell = &mut self.dwell;
        let h = self.cards.get_mut(card).expect("inserted above");
        let mut visits = Vec::new();
        match h.by_id.get(&scan.event_id).cloned() {
            Some(known) if known <= scan => {
                // a duplicate: nothing changes, but its buckets are emitted again
                let i = position(&h.scans, &known);
                let s = &h.scans;
                pair_visits(py, dwell, if i > 0 { Some(&s[i - 1]) } else { None }, &s[i], &mut visits)?;
                pair(py, dwell, Some(&s[i]), s.get(i + 1), &mut visits)?;
            }
            Some(known) => {
                // two scans claim one event_id: the smaller wins, whatever the arrival order
                self.scans -= 1;
                remove(py, dwell, h, &known, &mut visits)?;
                self.scans += 1;
                insert(py, dwell, h, scan, &mut visits)?;
            }
            None => {
                self.scans += 1;
                insert(py, dwell, h, scan, &mut visits)?;
            }
        }
        touch(&visits, touched);
        Ok(())
    }

    /// The card's visits at `venue` starting on `day`, sorted (VisitBuilder.bucket).
    fn bucket(&mut self, py: Python<'_>, card: &str, venue: &Arc<str>, day: i64) -> PyResult<Vec<(i64, i64)>> {
        let Some(h) = self.cards.get(card) else { return Ok(Vec::new()) };
        let s = &h.scans;
        let (d0, d1) = (day * DAY_S, (day + 1) * DAY_S);
        let lo = s.partition_point(|x| x.t < d0);
        let hi = s.len().min(s.partition_point(|x| x.t < d1) + 1);
        let mut visits = Vec::new();
        for j in lo..hi {
            pair_visits(py, &mut self.dwell, if j > 0 { Some(&s[j - 1]) } else { None }, &s[j], &mut visits)?;
        }
        if hi == s.len() && hi > 0 {
            last_visit(py, &mut self.dwell, &s[hi - 1], &mut visits)?;
        }
        let mut out: Vec<(i64, i64)> = visits
            .into_iter()
            .filter(|v| v.venue == *venue && d0 <= v.start && v.start < d1)
            .map(|v| (v.start, v.end))
            .collect();
        out.sort_unstable();
        Ok(out)
    }
}

fn insert(py: Python<'_>, dwell: &mut Dwell, h: &mut CardHistory, scan: Scan, visits: &mut Vec<Visit>) -> PyResult<()> {
    let s = &mut h.scans;
    let i = position(s, &scan);
    pair(py, dwell, if i > 0 { Some(&s[i - 1]) } else { None }, s.get(i), visits)?; // before
    pair_visits(py, dwell, if i > 0 { Some(&s[i - 1]) } else { None }, &scan, visits)?; // after
    pair(py, dwell, Some(&scan), s.get(i), visits)?;
    h.by_id.insert(scan.event_id.clone(), scan.clone());
    s.insert(i, scan);
    Ok(())
}

fn remove(py: Python<'_>, dwell: &mut Dwell, h: &mut CardHistory, scan: &Scan, visits: &mut Vec<Visit>) -> PyResult<()> {
    let s = &mut h.scans;
    let i = position(s, scan);
    let prev = if i > 0 { Some(&s[i - 1]) } else { None };
    pair_visits(py, dwell, prev, &s[i], visits)?; // before
    pair(py, dwell, Some(&s[i]), s.get(i + 1), visits)?;
    pair(py, dwell, prev, s.get(i + 1), visits)?; // after
    s.remove(i);
    h.by_id.remove(&scan.event_id);
    Ok(())
}

#[pymethods]
impl VisitBuilder {
    #[new]
    #[pyo3(signature = (dwell, retention_s, bucket_type, constant_dwell_s=None))]
    fn new(dwell: PyObject, retention_s: i64, bucket_type: PyObject, constant_dwell_s: Option<i64>) -> Self {
        VisitBuilder {
            dwell: Dwell { function: dwell, constant: constant_dwell_s, known: HashMap::default() },
            retention_s,
            bucket_type,
            cards: HashMap::default(),
            venues: HashMap::default(),
            scans: 0,
            partitions: HashMap::default(),
        }
    }

    /// Record one scan; returns the (venue, day) buckets of the card it may change.
    fn add<'py>(&mut self, py: Python<'py>, card: &str, scan: &Bound<'py, PyAny>, now_s: i64) -> PyResult<Bound<'py, PySet>> {
        self.dwell.reset(); // the registry may have changed a category since
        let scan = self.to_scan(scan)?;
        let mut touched = Touched::new();
        self.add_scan(py, card, scan, now_s, &mut touched)?;
        let set = PySet::empty(py)?;
        for (venue, day) in touched {
            set.add((&*venue, day))?;
        }
        Ok(set)
    }

    /// Record (card, scan) pairs, nothing returned (a state's rebuild).
    fn add_all(&mut self, py: Python<'_>, scans: &Bound<'_, PyAny>, now_s: i64) -> PyResult<()> {
        self.dwell.reset();
        let mut touched = Touched::new();
        for item in scans.try_iter()? {
            let item = item?;
            let item = item.downcast::<PyTuple>()?;
            let card = item.get_item(0)?;
            let scan = self.to_scan(&item.get_item(1)?)?;
            self.add_scan(py, card.downcast::<PyString>()?.to_str()?, scan, now_s, &mut touched)?;
            touched.clear();
        }
        Ok(())
    }

    /// Add a card's scans and return the new content of every bucket they touch, sorted by
    /// (venue, day): a list of `Bucket(venue, day, card, ((start, end), ...))`.
    fn apply<'py>(&mut self, py: Python<'py>, card: &str, scans: &Bound<'py, PyAny>, now_s: i64) -> PyResult<Bound<'py, PyList>> {
        self.dwell.reset();
        let mut touched = Touched::new();
        for scan in scans.try_iter()? {
            let scan = self.to_scan(&scan?)?;
            self.add_scan(py, card, scan, now_s, &mut touched)?;
        }
        let out = PyList::empty(py);
        for (venue, day) in touched {
            let visits = self.bucket(py, card, &venue, day)?;
            let visits = PyTuple::new(py, visits)?;
            out.append(self.bucket_type.call1(py, (&*venue, day, card, visits))?)?;
        }
        Ok(out)
    }

    /// The visits job's step for one partition's records of `scans-by-card.v1`, in one call:
    /// each value read as a scan-by-card v1 array (what ingest writes) or, when it is anything
    /// else, handed to `decoded(i, value)` -- the codec's verdict: `(card, Scan)`, or None for
    /// a record it refused (it keeps the dead letter) -- then the scans applied card by card
    /// (cards in order of first appearance) and every touched bucket returned as
    /// `(key, value or None, partition, timestamp_ms)`, as `truyvet.codec.visits` writes it and
    /// `venue_partition(venue)` places it. `truyvet.jobs.visits.apply_records` is the reference.
    fn apply_records<'py>(
        &mut self, py: Python<'py>, values: &Bound<'py, PyList>, now_s: i64, now_ms: i64,
        decoded: &Bound<'py, PyAny>, venue_partition: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        self.dwell.reset();
        let mut order: Vec<(String, Vec<Scan>)> = Vec::new();
        let mut at: HashMap<String, usize> = HashMap::default();
        for (i, value) in values.iter().enumerate() {
            let fast = match value.downcast::<PyBytes>() {
                Ok(b) => read_card_scan(b.as_bytes()),
                Err(_) => None,
            };
            let (card, scan) = match fast {
                Some((card, t, event_id, venue, out)) => {
                    let venue = self.intern(venue);
                    (card, Scan { t, event_id: Arc::from(event_id.as_str()), venue, out })
                }
                None => {
                    let got = decoded.call1((i, &value))?;
                    if got.is_none() {
                        continue;
                    }
                    let got = got.downcast::<PyTuple>()?;
                    let card: String = got.get_item(0)?.extract()?;
                    (card, self.to_scan(&got.get_item(1)?)?)
                }
            };
            match at.get(&card) {
                Some(&k) => order[k].1.push(scan),
                None => {
                    at.insert(card.clone(), order.len());
                    order.push((card, vec![scan]));
                }
            }
        }
        let out = PyList::empty(py);
        let mut touched = Touched::new();
        let mut json = Vec::with_capacity(256);
        for (card, scans) in order {
            touched.clear();
            for scan in scans {
                self.add_scan(py, &card, scan, now_s, &mut touched)?;
            }
            for (venue, day) in touched.iter() {
                let visits = self.bucket(py, &card, venue, *day)?;
                let key = format!("{venue}\x1f{day}\x1f{card}");
                let partition = match self.partitions.get(venue) {
                    Some(&p) => p,
                    None => {
                        let p: i64 = venue_partition.call1((&**venue,))?.extract()?;
                        self.partitions.insert(venue.clone(), p);
                        p
                    }
                };
                let (value, stamp) = if visits.is_empty() {
                    (py.None(), now_ms) // a tombstone, stamped now
                } else {
                    json.clear();
                    write_bucket(&mut json, venue, *day, &card, &visits);
                    let last_end = visits.iter().map(|v| v.1).max().unwrap_or(0) * 1000;
                    (PyBytes::new(py, &json).into_any().unbind(), last_end.min(now_ms))
                };
                out.append((PyBytes::new(py, key.as_bytes()), value, partition, stamp))?;
            }
        }
        Ok(out)
    }

    /// Forget scans older than the retention; returns how many were dropped.
    fn purge(&mut self, now_s: i64) -> i64 {
        let cutoff = now_s - self.retention_s;
        let mut dropped = 0i64;
        self.cards.retain(|_, h| {
            let k = h.scans.partition_point(|s| s.t < cutoff);
            if k > 0 {
                for s in h.scans.drain(..k) {
                    h.by_id.remove(&s.event_id);
                }
                dropped += k as i64;
            }
            !h.scans.is_empty()
        });
        self.scans -= dropped;
        self.venues.retain(|_, v| Arc::strong_count(v) > 1);
        dropped
    }

    /// Cards with scans held.
    fn __len__(&self) -> usize {
        self.cards.len()
    }
}

// --- the ingest job's check-ins ------------------------------------------------------------

/// A check-in v1 object with exactly the fields scanners send (no others: an unknown field may
/// hold a value orjson refuses, e.g. an integer past 64 bits, which serde would skip).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckIn {
    #[serde(default = "version_one")] // absent: the current version; null or 1.0: the full rules
    v: serde_json::Value,
    event_id: String,
    card_id: String,
    venue_id: String,
    scanner_id: String,
    direction: String,
    scanned_at: String,
    method: String,
}

fn version_one() -> serde_json::Value {
    serde_json::Value::from(1)
}

const MAX_ID: usize = 128; // truyvet.codec.fields.MAX_ID_LENGTH
const MAX_BYTES: usize = 4096; // truyvet.codec.checkin.MAX_BYTES

fn identifier(s: &str) -> bool {
    // 1..128 characters, none a control character; ASCII only here (the rest: the full rules)
    !s.is_empty() && s.len() <= MAX_ID && s.bytes().all(|b| (0x20..0x7f).contains(&b))
}

fn digits(b: &[u8]) -> Option<i64> {
    let mut n = 0i64;
    for &d in b {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n * 10 + (d - b'0') as i64;
    }
    Some(n)
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DDTHH:MM:SSZ` or `…:SS.mmmZ` (what `format_ms` writes), ASCII digits, a real date
/// and time of day in 2020..2099, as epoch milliseconds; None for anything else (the full
/// rules of `truyvet.codec.timefmt.parse_ms` judge it).
fn timestamp_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if !(b.len() == 20 || b.len() == 24) || b[b.len() - 1] != b'Z' || b[4] != b'-' || b[7] != b'-'
        || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    let (h, mi, sec) = (digits(&b[11..13])?, digits(&b[14..16])?, digits(&b[17..19])?);
    let millis = if b.len() == 24 {
        if b[19] != b'.' {
            return None;
        }
        digits(&b[20..23])?
    } else {
        0
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(2020..=2099).contains(&y) || !(1..=12).contains(&mo) || d < 1
        || d > month_days[(mo - 1) as usize] || h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    Some(((days_from_civil(y, mo, d) * 86_400) + h * 3600 + mi * 60 + sec) * 1000 + millis)
}

/// One raw check-in and its time (epoch ms) when it is valid by the simple rules; None for
/// anything else, including every record the full rules refuse, which they then judge
/// (`truyvet.domain.checkins.accept`).
fn valid_checkin(raw: &[u8], now_ms: i64, max_future_ms: i64) -> Option<(CheckIn, i64)> {
    if raw.len() > MAX_BYTES {
        return None;
    }
    let c: CheckIn = serde_json::from_slice(raw).ok()?;
    if c.v.as_i64() != Some(1) || !c.v.is_i64() || !identifier(&c.event_id) || !identifier(&c.card_id)
        || !identifier(&c.venue_id) || !identifier(&c.scanner_id)
        || !(c.direction == "in" || c.direction == "out")
        || !(c.method == "card" || c.method == "app" || c.method == "venue_qr") {
        return None;
    }
    let at_ms = timestamp_ms(&c.scanned_at)?;
    if at_ms > now_ms + max_future_ms {
        return None; // refused: the full rules say why
    }
    Some((c, at_ms))
}

/// One raw check-in as the ingest job forwards it -- (card key, scan-by-card v1 value,
/// scanned_at_ms) -- when it is valid by the simple rules; None otherwise (`valid_checkin`).
fn read_checkin(raw: &[u8], now_ms: i64, max_future_ms: i64) -> Option<(Vec<u8>, Vec<u8>, i64)> {
    let (c, at_ms) = valid_checkin(raw, now_ms, max_future_ms)?;
    // truyvet.codec.card_scan.encode: [1, event_id, card_id, venue_id, scanner_id, direction,
    // scanned_at_ms, method], as orjson writes it
    let mut out = Vec::with_capacity(raw.len());
    out.extend_from_slice(b"[1,");
    for id in [&c.event_id, &c.card_id, &c.venue_id, &c.scanner_id, &c.direction] {
        write_string(&mut out, id);
        out.push(b',');
    }
    out.extend_from_slice(at_ms.to_string().as_bytes());
    out.push(b',');
    write_string(&mut out, &c.method);
    out.push(b']');
    Some((c.card_id.into_bytes(), out, at_ms))
}

/// The ingest job's fast path over a batch's values: for each, `(key, value, scanned_at_ms)`
/// of the scan-by-card record to forward, or None where the Python rules must judge (anything
/// not in the simple form, and every refusal). tests/unit/test_fast_paths.py holds it to them.
#[pyfunction]
fn read_checkins<'py>(py: Python<'py>, values: &Bound<'py, PyList>, now_ms: i64, max_future_ms: i64) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for value in values.iter() {
        let got = match value.downcast::<PyBytes>() {
            Ok(b) => read_checkin(b.as_bytes(), now_ms, max_future_ms),
            Err(_) => None,
        };
        match got {
            Some((key, val, at_ms)) => out.append((PyBytes::new(py, &key), PyBytes::new(py, &val), at_ms))?,
            None => out.append(py.None())?,
        }
    }
    Ok(out)
}

/// The compliance job's fast path over a batch's values: for each, the check-in made by
/// `make(event_id, card_id, venue_id, scanner_id, direction, scanned_at_ms, method)` (the
/// `CheckIn` tuple), or None where the Python rules must judge (anything not in the simple
/// form, every refusal, and values that are not bytes). tests/unit/test_fast_paths.py holds
/// it to `truyvet.domain.checkins.accept`.
#[pyfunction]
fn accept_checkins<'py>(py: Python<'py>, values: &Bound<'py, PyList>, now_ms: i64, max_future_ms: i64,
                        make: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for value in values.iter() {
        let got = match value.downcast::<PyBytes>() {
            Ok(b) => valid_checkin(b.as_bytes(), now_ms, max_future_ms),
            Err(_) => None,
        };
        match got {
            Some((c, at_ms)) => out.append(make.call1((
                c.event_id, c.card_id, c.venue_id, c.scanner_id, c.direction, at_ms, c.method))?)?,
            None => out.append(py.None())?,
        }
    }
    Ok(out)
}

#[pymodule]
fn truyvet_native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<VisitBuilder>()?;
    m.add_class::<index_loader::IndexLoader>()?;
    m.add_function(wrap_pyfunction!(read_checkins, m)?)?;
    m.add_function(wrap_pyfunction!(accept_checkins, m)?)?;
    m.add_function(wrap_pyfunction!(index_loader::read_visit_records, m)?)?;
    m.add_function(wrap_pyfunction!(matching::answer_stops, m)?)?;
    m.add_function(wrap_pyfunction!(matching::contacts_json, m)?)?;
    Ok(())
}
