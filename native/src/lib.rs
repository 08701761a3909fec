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

use std::collections::BTreeSet;
use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PySet, PyString, PyTuple};

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
}

impl VisitBuilder {
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

#[pymodule]
fn truyvet_native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<VisitBuilder>()?;
    Ok(())
}
