//! Answering a stop from the tracer API's visit index, and the contacts' JSON, compiled.
//!
//! The references are `truyvet.domain.matching.overlap.answer_stop_reference` (numpy) and
//! `truyvet.domain.matching.cards.CardTable.contacts_json_reference`; the Python side hands
//! this code the index's own columns (no copy) and takes what it returns in their place.
//! tests/unit/test_native_matching.py holds both to their references on generated indexes
//! (rows deleted, visits across midnight, ties in overlap, the card's own visits), and
//! test_matching_properties.py runs the matcher against the brute-force reference.
//!
//! Measured in docs/benchmarks.md ("The POST's path"): numpy spent ~0.45 ms a stop on a
//! busy venue-day, most of it in the dozens of small array operations a stop needs; here a
//! stop is one pass over the day's rows and two sorts of the few that meet it.

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

const DEAD: u32 = 0xFFFF_FFFF; // truyvet.domain.matching.index.DEAD: a deleted row

fn slice<'a, T: pyo3::buffer::Element>(py: Python<'a>, buf: &'a PyBuffer<T>, n: usize, what: &str) -> PyResult<&'a [T]> {
    if !buf.is_c_contiguous() {
        return Err(PyValueError::new_err(format!("{what}: not a contiguous array")));
    }
    if buf.item_count() < n {
        return Err(PyValueError::new_err(format!("{what}: fewer than {n} items")));
    }
    let _ = py;
    // Safety: the buffer (and so its memory) is held for 'a; it is C-contiguous with at least
    // n items of T (checked above; PyBuffer::get checked the item format). Nothing writes it
    // meanwhile: this runs holding the interpreter lock, which the card tables' writers need,
    // and the visit index's columns are read under the index's lock (IndexView.answer),
    // which its writers take.
    Ok(unsafe { std::slice::from_raw_parts(buf.buf_ptr() as *const T, n) })
}

type Columns<'a> = (&'a [u32], &'a [u32], &'a [u32]); // a bucket's cards, starts, ends
type Buffers = Vec<(PyBuffer<u32>, PyBuffer<u32>, PyBuffer<u32>, usize)>;

fn columns<'a>(py: Python<'a>, buckets: &'a Buffers) -> PyResult<Vec<Columns<'a>>> {
    buckets
        .iter()
        .map(|(cards, starts, ends, n)| {
            Ok((slice(py, cards, *n, "cards")?, slice(py, starts, *n, "starts")?, slice(py, ends, *n, "ends")?))
        })
        .collect()
}

/// Every stop of an itinerary, answered in the same order, shared among `threads` threads
/// with the interpreter lock released. Each stop is `(buckets, lo, hi, frm, to)`: the rows of
/// the venue's buckets that may touch [lo, hi] as `(cards, starts, ends, size)`, the stop
/// [frm, to). `me` is the number of the card submitting it (or None). Each answer is
/// (whether a row of `me` meets [lo, hi], the contacts' card numbers as little-endian u32,
/// their overlaps as little-endian i64), contacts ordered by overlap descending, then card id
/// (the `sort_width`-byte rows of `sort_keys`, NUL-padded). The caller holds the index's
/// lock, which every writer of the columns and of the card table takes.
#[pyfunction]
#[pyo3(signature = (stops, me, sort_keys, sort_width, threads))]
pub fn answer_stops<'py>(
    py: Python<'py>,
    stops: Vec<(Buffers, i64, i64, i64, i64)>,
    me: Option<u32>,
    sort_keys: PyBuffer<u8>,
    sort_width: usize,
    threads: usize,
) -> PyResult<Vec<(bool, Bound<'py, PyBytes>, Bound<'py, PyBytes>)>> {
    let keys = slice(py, &sort_keys, sort_keys.item_count(), "sort_keys")?;
    let inputs: Vec<(Vec<Columns<'_>>, i64, i64, i64, i64)> = stops
        .iter()
        .map(|(buckets, lo, hi, frm, to)| Ok((columns(py, buckets)?, *lo, *hi, *frm, *to)))
        .collect::<PyResult<_>>()?;
    let threads = threads.clamp(1, inputs.len().max(1));
    let inputs = &inputs;
    let answers: Vec<Result<(bool, Vec<u8>, Vec<u8>), String>> = py.allow_threads(|| {
        let one = move |i: usize| {
            let (columns, lo, hi, frm, to) = &inputs[i];
            answer(columns, *lo, *hi, *frm, *to, me, keys, sort_width)
        };
        if threads == 1 {
            return (0..inputs.len()).map(one).collect();
        }
        let mut out: Vec<Option<Result<(bool, Vec<u8>, Vec<u8>), String>>> = (0..inputs.len()).map(|_| None).collect();
        std::thread::scope(|scope| {
            let workers: Vec<_> = (1..threads)
                .map(|t| scope.spawn(move || (t..inputs.len()).step_by(threads).map(|i| (i, one(i))).collect::<Vec<_>>()))
                .collect();
            for i in (0..inputs.len()).step_by(threads) {
                out[i] = Some(one(i));
            }
            for w in workers {
                for (i, got) in w.join().expect("a matching thread panicked") {
                    out[i] = Some(got);
                }
            }
        });
        out.into_iter().map(|a| a.expect("every stop answered")).collect()
    });
    answers
        .into_iter()
        .map(|a| {
            let (met, numbers, overlaps) = a.map_err(PyValueError::new_err)?;
            Ok((met, PyBytes::new(py, &numbers), PyBytes::new(py, &overlaps)))
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn answer(
    buckets: &[Columns<'_>],
    lo: i64,
    hi: i64,
    frm: i64,
    to: i64,
    me: Option<u32>,
    table: &[u8],
    sort_width: usize,
) -> Result<(bool, Vec<u8>, Vec<u8>), String> {
    let mut verified = false;
    // the parts of rows meeting [frm, to), as (card << 32 | from, to): columns are u32
    // seconds, so a part's ends fit in 32 bits whatever the stop. Kept without a branch per
    // row: a bucket's rows are in no order of time, and a branch on each would be
    // mispredicted for a good share of them (a busy stop: 46 us of scanning, now 25)
    let me = me.map_or(DEAD as u64, |m| m as u64); // DEAD: no card (and no row is DEAD and live)
    let read: usize = buckets.iter().map(|(cards, _, _)| cards.len()).sum();
    let mut rows: Vec<(u64, u32)> = vec![(0, 0); read];
    let mut kept = 0;
    for (cards, starts, ends) in buckets {
        for ((&card, &start), &end) in cards.iter().zip(starts.iter()).zip(ends.iter()) {
            let (start, end) = (start as i64, end as i64);
            let meets = (card != DEAD) & (start <= hi) & (end >= lo);
            let mine = card as u64 == me;
            verified |= meets & mine; // the window is the ±tolerance test
            let (a, b) = (start.max(frm), end.min(to));
            rows[kept] = ((card as u64) << 32 | a.max(0) as u64, b.max(0) as u32);
            kept += (meets & !mine & (b > a)) as usize;
        }
    }
    rows.truncate(kept);
    // per card, the length of the union of its intervals (by card, then start)
    rows.sort_unstable_by_key(|r| r.0);
    // ordered by overlap descending, then card id: one 128-bit key each -- the overlap's
    // complement, the id's first eight bytes (its sort key, NUL-padded), the card number --
    // so one sort of plain integers settles every order the ids' first eight bytes decide
    let mut order: Vec<u128> = Vec::with_capacity(rows.len());
    let mut i = 0;
    while i < rows.len() {
        let card = (rows[i].0 >> 32) as u32;
        let (mut reach, mut total) = (0u64, 0u64);
        while i < rows.len() && (rows[i].0 >> 32) as u32 == card {
            let (a, b) = (rows[i].0 & 0xFFFF_FFFF, rows[i].1 as u64);
            let from = a.max(reach);
            if b > from {
                total += b - from;
            }
            reach = reach.max(b);
            i += 1;
        }
        if total > 0 {
            let key = sort_key(table, sort_width, card)?;
            let mut head = [0u8; 8];
            let k = key.len().min(8);
            head[..k].copy_from_slice(&key[..k]);
            order.push(((!(total as u32) as u128) << 96) | ((u64::from_be_bytes(head) as u128) << 32) | card as u128);
        }
    }
    order.sort_unstable();
    if sort_width > 8 {
        // equal overlaps and first eight bytes: the rest of the ids decide
        let mut run = 0;
        while run < order.len() {
            let mut end = run + 1;
            while end < order.len() && order[end] >> 32 == order[run] >> 32 {
                end += 1;
            }
            if end - run > 1 {
                let mut tied = Vec::with_capacity(end - run);
                for &o in &order[run..end] {
                    tied.push((sort_key(table, sort_width, o as u32)?, o));
                }
                tied.sort_unstable();
                for (at, (_, o)) in tied.into_iter().enumerate() {
                    order[run + at] = o;
                }
            }
            run = end;
        }
    }
    let mut numbers = Vec::with_capacity(order.len() * 4);
    let mut overlaps = Vec::with_capacity(order.len() * 8);
    for o in order {
        numbers.extend_from_slice(&(o as u32).to_le_bytes());
        overlaps.extend_from_slice(&(!((o >> 96) as u32) as i64).to_le_bytes());
    }
    Ok((verified, numbers, overlaps))
}

/// Card `card`'s row of the sort keys.
fn sort_key(table: &[u8], sort_width: usize, card: u32) -> Result<&[u8], String> {
    let at = card as usize * sort_width;
    table.get(at..at + sort_width).ok_or_else(|| format!("card {card}: no sort key"))
}

const OPEN: &[u8] = b"{\"card_id\":";
const MID: &[u8] = b",\"overlap_s\":";
const DIGITS: usize = 10; // truyvet.domain.matching.cards._DIGITS
const CLOSE: &[u8] = b",\"close_contact\":";
const TRUE: &[u8] = b"true },";
const FALSE: &[u8] = b"false},";

/// `[{"card_id", "overlap_s", "close_contact"}, ...]` byte for byte as
/// `CardTable.contacts_json_reference` writes it: every contact a fixed-width row, the card's
/// quoted id from the `json_width`-byte rows of `json_ids` (space-padded), its overlap in
/// `DIGITS` columns. None when an overlap is negative or has more digits (the reference
/// then answers).
#[pyfunction]
pub fn contacts_json<'py>(
    py: Python<'py>,
    json_ids: PyBuffer<u8>,
    json_width: usize,
    numbers: PyBuffer<u32>,
    overlaps: PyBuffer<i64>,
    close_s: i64,
) -> PyResult<Option<Bound<'py, PyBytes>>> {
    let n = numbers.item_count();
    if overlaps.item_count() != n {
        return Err(PyValueError::new_err("numbers and overlaps differ in length"));
    }
    if n == 0 {
        return Ok(Some(PyBytes::new(py, b"[]")));
    }
    let (ids, numbers, overlaps) = (
        slice(py, &json_ids, json_ids.item_count(), "json_ids")?,
        slice(py, &numbers, n, "numbers")?,
        slice(py, &overlaps, n, "overlaps")?,
    );
    let row = OPEN.len() + json_width + MID.len() + DIGITS + CLOSE.len() + TRUE.len();
    let mut out = Vec::with_capacity(1 + n * row);
    out.push(b'[');
    let mut digits = [0u8; 20];
    for i in 0..n {
        let (card, overlap) = (numbers[i] as usize, overlaps[i]);
        if !(0..10_000_000_000).contains(&overlap) {
            return Ok(None);
        }
        let id = ids
            .get(card * json_width..(card + 1) * json_width)
            .ok_or_else(|| PyValueError::new_err(format!("card {card}: no id")))?;
        out.extend_from_slice(OPEN);
        out.extend_from_slice(id);
        out.extend_from_slice(MID);
        let mut v = overlap as u64;
        let mut k = digits.len();
        loop {
            k -= 1;
            digits[k] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        let written = digits.len() - k;
        out.extend_from_slice(&digits[k..]);
        out.extend(std::iter::repeat(b' ').take(DIGITS - written));
        out.extend_from_slice(CLOSE);
        out.extend_from_slice(if overlap >= close_s { TRUE } else { FALSE });
    }
    *out.last_mut().unwrap() = b']'; // the last row's comma
    Ok(Some(PyBytes::new(py, &out)))
}
