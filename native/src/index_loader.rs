//! The tracer API's first catch-up of the visits topic, compiled: records of `visits.v1` in,
//! the columns of the index they make out (`truyvet.domain.matching.index_columns.IndexColumns`).
//!
//! The reference is the Python path every later record takes: `truyvet.codec.visits.decode_record`
//! then `VisitIndex.apply`, in which the last record of a (venue, day, card) replaces the ones
//! before it whole (a tombstone deletes them) and a venue's longest visit is the longest ever
//! applied. A record in the form the visits job writes (ASCII day, `{"visits": [[s, e], ...],
//! ...}` with integers 0 <= s <= e < 2^32) is read here; any other goes to the Python codec,
//! which reads or refuses it (the refusal is handed back with the record's place), so the
//! codec stays the one judge of what a record means. tests/unit/test_index_loader.py holds
//! this to the reference on generated topics.
//!
//! Feeding keeps one row per visit, tagged with its (venue, day) bucket and its record's
//! sequence number; `finish` groups the rows by bucket, sorts each bucket by (card, sequence)
//! and keeps, per card, the rows of its last record. 20 bytes a visit while loading (40 while
//! finishing), no map per (venue, day, card).

use rustc_hash::FxHashMap as HashMap;

use pyo3::exceptions::PyValueError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};
use serde::Deserialize;

const SEP: u8 = 0x1f; // truyvet.codec.visits.SEP
const TOMBSTONE: (u32, u32) = (1, 0); // a row with start > end: "this record had no visits"

#[derive(Deserialize)]
struct Value {
    visits: Vec<(u64, u64)>,
}

#[derive(Clone, Copy, Default)]
struct Row {
    bucket: u32, // a number in `IndexLoader::buckets`
    card: u32,
    seq: u32,
    start: u32,
    end: u32,
}

/// A name as a hash key, held in the table itself when short (card and venue ids are): a
/// lookup then reads one place in memory, not two (measured: half the loader's time went to
/// the second, the name's own allocation, with 300,000 cards).
#[derive(Hash, PartialEq, Eq)]
enum Key {
    Short(u8, [u8; 22]),
    Long(Box<str>),
}

impl Key {
    fn of(name: &str) -> Key {
        let b = name.as_bytes();
        if b.len() <= 22 {
            let mut short = [0u8; 22];
            short[..b.len()].copy_from_slice(b);
            Key::Short(b.len() as u8, short)
        } else {
            Key::Long(name.into())
        }
    }
}

#[derive(Default)]
struct Names {
    number: HashMap<Key, u32>,
    names: Vec<Box<str>>,
}

impl Names {
    fn intern(&mut self, name: &str) -> PyResult<u32> {
        let next = self.names.len();
        let n = *self.number.entry(Key::of(name)).or_insert(next as u32);
        if n as usize == next {
            if u32::try_from(next).is_err() || next == u32::MAX as usize {
                return Err(PyValueError::new_err("too many names"));
            }
            self.names.push(name.into());
        }
        Ok(n)
    }
}

/// The key `venue SEP day SEP card` with `day` in ASCII digits below 2^31; None otherwise.
fn read_key(key: &[u8]) -> Option<(&str, u32, &str)> {
    let key = std::str::from_utf8(key).ok()?;
    let mut parts = key.split(SEP as char);
    let (venue, day, card) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || day.is_empty() || day.len() > 10 || !day.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let day: u64 = day.parse().ok()?;
    if day > i32::MAX as u64 {
        return None;
    }
    Some((venue, day as u32, card))
}

/// The visits of a value in the simple form; None for anything else (the codec judges it).
fn read_value(value: &[u8], out: &mut Vec<(u32, u32)>) -> Option<()> {
    let v: Value = serde_json::from_slice(value).ok()?;
    out.clear();
    for (s, e) in v.visits {
        if s > e || e > u32::MAX as u64 {
            return None;
        }
        out.push((s as u32, e as u32));
    }
    Some(())
}

#[pyclass(module = "truyvet_native")]
pub struct IndexLoader {
    decode: PyObject,
    venues: Names,
    cards: Names,
    longest: Vec<u32>, // per venue number
    bucket_number: HashMap<(u32, u32), u32>, // (venue, day) -> bucket
    buckets: Vec<(u32, u32)>,
    rows: Vec<Row>,
    seq: u32,
    visits: Vec<(u32, u32)>,
}

impl IndexLoader {
    fn add(&mut self, venue: &str, day: u32, card: &str) -> PyResult<()> {
        let venue = self.venues.intern(venue)?;
        let card = self.cards.intern(card)?;
        if venue as usize == self.longest.len() {
            self.longest.push(0);
        }
        self.seq = self.seq.checked_add(1).ok_or_else(|| PyValueError::new_err("too many records"))?;
        let seq = self.seq;
        let next = self.buckets.len() as u32;
        let bucket = *self.bucket_number.entry((venue, day)).or_insert(next);
        if bucket == next {
            self.buckets.push((venue, day));
        }
        if self.visits.is_empty() {
            let (start, end) = TOMBSTONE;
            self.rows.push(Row { bucket, card, seq, start, end });
        }
        for &(start, end) in &self.visits {
            self.rows.push(Row { bucket, card, seq, start, end });
            let longest = &mut self.longest[venue as usize];
            *longest = (*longest).max(end - start);
        }
        Ok(())
    }

    /// One record: read here when simple, else by the codec; Err(the codec's exception) when
    /// it refuses the record (or the record is outside what an index can hold).
    fn take(&mut self, py: Python<'_>, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> Result<(), PyErr> {
        let key_bytes = key.downcast::<PyBytes>().ok().map(|b| b.as_bytes());
        if let Some((venue, day, card)) = key_bytes.and_then(read_key) {
            let simple = if value.is_none() {
                self.visits.clear();
                Some(())
            } else {
                match value.downcast::<PyBytes>() {
                    Ok(b) => read_value(b.as_bytes(), &mut self.visits),
                    Err(_) => None,
                }
            };
            if simple.is_some() {
                return self.add(venue, day, card);
            }
        }
        let got = self.decode.bind(py).call1((key, value))?;
        let got = got.downcast::<PyTuple>()?;
        let venue = got.get_item(0)?;
        let venue = venue.downcast::<PyString>()?.to_str()?;
        let card = got.get_item(2)?;
        let card = card.downcast::<PyString>()?.to_str()?;
        let day: i64 = got.get_item(1)?.extract()?;
        let visits: Vec<(i64, i64)> = got.get_item(3)?.extract()?;
        if !(0..=i32::MAX as i64).contains(&day) {
            return Err(PyValueError::new_err(format!("the codec passed a bucket of day {day}")));
        }
        self.visits.clear();
        for (s, e) in visits {
            if !(0 <= s && s <= e && e <= u32::MAX as i64) {
                return Err(PyValueError::new_err(format!("the codec passed a visit [{s}, {e}]")));
            }
            self.visits.push((s as u32, e as u32));
        }
        self.add(venue, day as u32, card)
    }

    fn fed<'py>(
        py: Python<'py>, count: usize, positions: Vec<(i64, i64)>, refused: Bound<'py, PyList>,
        errors: Bound<'py, PyList>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        (count, positions, refused, errors).into_pyobject(py)
    }
}

/// The rows grouped by bucket (a counting sort), and in each bucket only the visits of each
/// card's last record, first: `(rows, where each bucket begins, how many of its rows are kept)`.
/// The buckets are sorted by (card, record) on two threads, half the rows each.
fn last_records(rows: Vec<Row>, bucket_count: usize) -> (Vec<Row>, Vec<usize>, Vec<usize>) {
    let mut first = vec![0usize; bucket_count + 1];
    for r in &rows {
        first[r.bucket as usize + 1] += 1;
    }
    for b in 0..bucket_count {
        first[b + 1] += first[b];
    }
    let mut grouped = vec![Row::default(); rows.len()];
    let mut at = first.clone();
    for r in rows {
        grouped[at[r.bucket as usize]] = r;
        at[r.bucket as usize] += 1;
    }
    let half = first.partition_point(|&f| f < grouped.len() / 2).min(bucket_count);
    let (low, high) = grouped.split_at_mut(first[half]);
    let (mut kept_low, kept_high) = std::thread::scope(|scope| {
        let high_side = scope.spawn(|| keep_last(high, &first[half..], first[half]));
        (keep_last(low, &first[..=half], 0), high_side.join().expect("a loader thread panicked"))
    });
    kept_low.extend(kept_high);
    first.truncate(bucket_count);
    (grouped, first, kept_low)
}

/// Per bucket of `rows` (bounds `first`, offset by `base`): sort by (card, record), move the
/// rows of each card's last record to the bucket's front, tombstones dropped; how many each.
fn keep_last(rows: &mut [Row], first: &[usize], base: usize) -> Vec<usize> {
    let mut kept = Vec::with_capacity(first.len().saturating_sub(1));
    for w in first.windows(2) {
        let bucket = &mut rows[w[0] - base..w[1] - base];
        bucket.sort_unstable_by_key(|r| (r.card as u64) << 32 | r.seq as u64);
        let mut n = 0;
        let mut i = 0;
        while i < bucket.len() {
            let mut j = i;
            while j < bucket.len() && bucket[j].card == bucket[i].card {
                j += 1;
            }
            let last = bucket[j - 1].seq; // a card's last record wins
            for k in i..j {
                if bucket[k].seq == last && bucket[k].start <= bucket[k].end {
                    bucket[n] = bucket[k];
                    n += 1;
                }
            }
            i = j;
        }
        kept.push(n);
    }
    kept
}

fn note_position(positions: &mut Vec<(i64, i64)>, partition: i64, next: i64) {
    match positions.iter_mut().find(|p| p.0 == partition) {
        Some(p) => p.1 = next,
        None => positions.push((partition, next)),
    }
}

fn le_bytes<'py, T: Copy, const N: usize>(py: Python<'py>, xs: &[T], f: fn(T) -> [u8; N]) -> Bound<'py, PyBytes> {
    let mut out = Vec::with_capacity(xs.len() * N);
    for &x in xs {
        out.extend_from_slice(&f(x));
    }
    PyBytes::new(py, &out)
}

#[pymethods]
impl IndexLoader {
    /// `decode(key, value)`: the codec's reading of a record, `(venue, day, card, visits)`,
    /// raising when it refuses it (`truyvet.codec.visits.decode_record`).
    #[new]
    fn new(decode: PyObject) -> Self {
        IndexLoader {
            decode, venues: Names::default(), cards: Names::default(), longest: Vec::new(),
            bucket_number: HashMap::default(), buckets: Vec::new(), rows: Vec::new(), seq: 0,
            visits: Vec::new(),
        }
    }

    /// confluent-kafka messages, read here: `(records, [(partition, next offset)],
    /// [(partition, offset, exception)] refused, [messages carrying an error])`.
    fn feed_messages<'py>(&mut self, py: Python<'py>, messages: &Bound<'py, PyList>) -> PyResult<Bound<'py, PyTuple>> {
        let refused = PyList::empty(py);
        let errors = PyList::empty(py);
        let mut positions = Vec::new();
        let mut count = 0;
        for m in messages.iter() {
            if !m.call_method0(intern!(py, "error"))?.is_none() {
                errors.append(&m)?;
                continue;
            }
            let partition: i64 = m.call_method0(intern!(py, "partition"))?.extract()?;
            let offset: i64 = m.call_method0(intern!(py, "offset"))?.extract()?;
            let key = m.call_method0(intern!(py, "key"))?;
            let value = m.call_method0(intern!(py, "value"))?;
            if let Err(e) = self.take(py, &key, &value) {
                refused.append((partition, offset, e.into_value(py)))?;
            }
            note_position(&mut positions, partition, offset + 1);
            count += 1;
        }
        Self::fed(py, count, positions, refused, errors)
    }

    /// The same over `truyvet.kafka.record.Record` tuples (the in-memory backend).
    fn feed_records<'py>(&mut self, py: Python<'py>, records: &Bound<'py, PyList>) -> PyResult<Bound<'py, PyTuple>> {
        let refused = PyList::empty(py);
        let mut positions = Vec::new();
        let mut count = 0;
        for r in records.iter() {
            let r = r.downcast::<PyTuple>()?;
            let partition: i64 = r.get_item(1)?.extract()?;
            let offset: i64 = r.get_item(2)?.extract()?;
            if let Err(e) = self.take(py, &r.get_item(3)?, &r.get_item(4)?) {
                refused.append((partition, offset, e.into_value(py)))?;
            }
            note_position(&mut positions, partition, offset + 1);
            count += 1;
        }
        Self::fed(py, count, positions, refused, PyList::empty(py))
    }

    /// The index of everything fed, as `IndexColumns`' fields: `(venues, longest int64,
    /// bucket_venue int32, bucket_day int32, bucket_end int64, cards uint32, starts uint32,
    /// ends uint32, card_names)`, the arrays as little-endian bytes; only the cards a row
    /// names, numbered in the order they were first fed. Empties the loader.
    fn finish<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let rows = std::mem::take(&mut self.rows);
        let bucket_count = self.buckets.len();
        let (rows, first, kept) = py.allow_threads(move || last_records(rows, bucket_count));
        let card_count = self.cards.names.len();
        let mut used = vec![false; card_count];
        let mut has_bucket = vec![false; self.venues.names.len()];
        for b in 0..bucket_count {
            for r in &rows[first[b]..first[b] + kept[b]] {
                used[r.card as usize] = true;
            }
            if kept[b] > 0 {
                has_bucket[self.buckets[b].0 as usize] = true;
            }
        }
        let mut renumber = vec![u32::MAX; card_count];
        let mut card_names: Vec<&str> = Vec::new();
        for (n, name) in self.cards.names.iter().enumerate() {
            if used[n] {
                renumber[n] = card_names.len() as u32;
                card_names.push(name);
            }
        }
        // the venues a bucket or a longest visit names, renumbered
        let mut venue_number = vec![u32::MAX; self.venues.names.len()];
        let (mut venues, mut longest): (Vec<&str>, Vec<i64>) = (Vec::new(), Vec::new());
        for (n, name) in self.venues.names.iter().enumerate() {
            if has_bucket[n] || self.longest[n] > 0 {
                venue_number[n] = venues.len() as u32;
                venues.push(name);
                longest.push(self.longest[n] as i64);
            }
        }
        let total: usize = kept.iter().sum();
        let (mut bucket_venue, mut bucket_day, mut bucket_end) = (Vec::new(), Vec::new(), Vec::new());
        let (mut cards, mut starts, mut ends) = (Vec::with_capacity(total), Vec::with_capacity(total),
                                                 Vec::with_capacity(total));
        for b in 0..bucket_count {
            if kept[b] == 0 {
                continue;
            }
            let (venue, day) = self.buckets[b];
            bucket_venue.push(venue_number[venue as usize] as i32);
            bucket_day.push(day as i32);
            for r in &rows[first[b]..first[b] + kept[b]] {
                cards.push(renumber[r.card as usize]);
                starts.push(r.start);
                ends.push(r.end);
            }
            bucket_end.push(cards.len() as i64);
        }
        let out = (
            PyList::new(py, venues)?,
            le_bytes(py, &longest, i64::to_le_bytes),
            le_bytes(py, &bucket_venue, i32::to_le_bytes),
            le_bytes(py, &bucket_day, i32::to_le_bytes),
            le_bytes(py, &bucket_end, i64::to_le_bytes),
            le_bytes(py, &cards, u32::to_le_bytes),
            le_bytes(py, &starts, u32::to_le_bytes),
            le_bytes(py, &ends, u32::to_le_bytes),
            PyList::new(py, card_names)?,
        )
            .into_pyobject(py)?;
        self.venues = Names::default();
        self.cards = Names::default();
        self.longest.clear();
        self.bucket_number.clear();
        self.buckets.clear();
        self.seq = 0;
        Ok(out)
    }

    /// Visits fed so far (deleted and replaced ones included).
    fn __len__(&self) -> usize {
        self.rows.iter().filter(|r| r.start <= r.end).count()
    }
}

/// The records of `visits.v1` as `truyvet.codec.visits.decode_record` reads them, for those in
/// the form the visits job writes: per `(key, value)`, `make(venue, day, card, [(start, end),
/// ...])` (a tombstone: no visits), or None where the codec must read, or refuse, the record.
/// What the API's index follower reads once caught up (tests/unit/test_index_loader.py holds
/// it to the codec on the same generated records as the loader).
#[pyfunction]
pub fn read_visit_records<'py>(py: Python<'py>, keys: &Bound<'py, PyList>, values: &Bound<'py, PyList>,
                               make: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
    if keys.len() != values.len() {
        return Err(PyValueError::new_err("keys and values differ in length"));
    }
    let out = PyList::empty(py);
    let mut visits: Vec<(u32, u32)> = Vec::new();
    for (key, value) in keys.iter().zip(values.iter()) {
        let read = key.downcast::<PyBytes>().ok().and_then(|k| read_key(k.as_bytes())).and_then(|(venue, day, card)| {
            if value.is_none() {
                visits.clear();
                Some((venue, day, card))
            } else {
                let v = value.downcast::<PyBytes>().ok()?;
                read_value(v.as_bytes(), &mut visits).map(|_| (venue, day, card))
            }
        });
        match read {
            Some((venue, day, card)) => {
                let pairs = PyList::empty(py);
                for &(s, e) in &visits {
                    pairs.append((s, e))?;
                }
                out.append(make.call1((venue, day, card, pairs))?)?
            }
            None => out.append(py.None())?,
        }
    }
    Ok(out)
}
