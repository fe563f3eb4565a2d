//! A small reader for the plain-data part of a Python pickle (protocols 2-5): None, bools, ints,
//! floats, strings, bytes, tuples, lists, dicts, and objects rebuilt by `NEWOBJ`/`REDUCE` + `BUILD`,
//! whose state dict is kept (this is how an `argparse.Namespace` is stored). Tensors (persistent ids)
//! become [`PyValue::Opaque`]; their data is read by `pytorch-reader`. Anything else is an error naming
//! the opcode and its offset.

use std::collections::BTreeMap;

/// A Python value.
#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    /// `None`.
    None,
    /// `bool`.
    Bool(bool),
    /// `int` (up to 64 bits).
    Int(i64),
    /// `float`.
    Float(f64),
    /// `str`.
    Str(String),
    /// `bytes`.
    Bytes(Vec<u8>),
    /// `tuple` or `list`.
    List(Vec<PyValue>),
    /// `dict` with string keys (other keys are rendered with `{:?}`).
    Dict(BTreeMap<String, PyValue>),
    /// A class reference `module.name`.
    Global(String),
    /// An object of class `class` with its `__dict__` state (empty when it had none).
    Object {
        /// `module.name` of the class.
        class: String,
        /// The state set by `BUILD`.
        state: BTreeMap<String, PyValue>,
    },
    /// A persistent reference (a tensor storage) or another value this reader does not interpret.
    Opaque,
}

impl PyValue {
    /// The value under `key` of a dict or of an object's state.
    pub fn get(&self, key: &str) -> Option<&PyValue> {
        match self {
            Self::Dict(d) | Self::Object { state: d, .. } => d.get(key),
            _ => None,
        }
    }

    /// The value as an integer.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Self::Int(i) => Some(*i),
            Self::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }

    /// A dict key as text: strings as they are, scalars as Python would print them, containers by kind
    /// (never their contents, which a crafted pickle can make huge).
    fn key(&self) -> String {
        match self {
            Self::Str(s) | Self::Global(s) => s.clone(),
            Self::None | Self::Bool(_) | Self::Int(_) | Self::Float(_) => format!("{self:?}"),
            Self::Bytes(_) => "<bytes>".into(),
            Self::List(_) => "<list>".into(),
            Self::Dict(_) => "<dict>".into(),
            Self::Object { class, .. } => format!("<{class} object>"),
            Self::Opaque => "<opaque>".into(),
        }
    }

    /// The number of values in this one (itself included), counted up to `limit`: `None` past it.
    /// Iterative, so that a deeply nested value cannot exhaust the stack here.
    fn count_within(&self, limit: usize) -> Option<usize> {
        let (mut n, mut pending) = (0usize, vec![self]);
        while let Some(v) = pending.pop() {
            n += 1;
            if n > limit {
                return None;
            }
            match v {
                Self::List(items) => pending.extend(items),
                Self::Dict(d) | Self::Object { state: d, .. } => pending.extend(d.values()),
                _ => {}
            }
        }
        Some(n)
    }
}

/// Values a pickle may copy through its memo (`*PUT`, `*GET`) in all: each copy is a deep clone, and
/// repeated copies of copies grow exponentially in the pickle's length.
fn copy_budget(pickle_len: usize) -> usize {
    pickle_len.saturating_mul(16).max(1 << 20)
}

/// How deeply values may nest (a container inside a container ...): deep enough for any checkpoint
/// (they nest a few levels), shallow enough that dropping or copying a value, which recurses, cannot
/// exhaust the stack.
pub const MAX_NESTING: usize = 1000;

/// A stack entry: a mark, or a value with its nesting depth (0 for a scalar, 1 + its deepest member
/// for a container).
enum Item {
    Mark,
    Value(PyValue, usize),
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| format!("the pickle ends inside an argument at byte {}", self.pos))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn le(&mut self, n: usize) -> Result<u64, String> {
        Ok(self.take(n)?.iter().rev().fold(0u64, |a, &b| (a << 8) | u64::from(b)))
    }

    fn line(&mut self) -> Result<String, String> {
        let start = self.pos;
        let rel = self.bytes[start..].iter().position(|&b| b == b'\n');
        let end = start + rel.ok_or_else(|| format!("unterminated line at byte {start}"))?;
        self.pos = end + 1;
        Ok(String::from_utf8_lossy(&self.bytes[start..end]).into_owned())
    }

    fn text(&mut self, n: usize) -> Result<PyValue, String> {
        Ok(PyValue::Str(String::from_utf8_lossy(self.take(n)?).into_owned()))
    }
}

fn pop(stack: &mut Vec<Item>, op: u8, at: usize) -> Result<(PyValue, usize), String> {
    match stack.pop() {
        Some(Item::Value(v, depth)) => Ok((v, depth)),
        _ => Err(format!("opcode 0x{op:02x} at byte {at} found an empty stack")),
    }
}

/// The values above the topmost mark, in order, and the deepest one's depth.
fn pop_mark(stack: &mut Vec<Item>, op: u8, at: usize) -> Result<(Vec<PyValue>, usize), String> {
    let (mut out, mut depth) = (Vec::new(), 0);
    loop {
        match stack.pop() {
            Some(Item::Mark) => break,
            Some(Item::Value(v, d)) => {
                out.push(v);
                depth = depth.max(d);
            }
            None => return Err(format!("opcode 0x{op:02x} at byte {at} found no mark")),
        }
    }
    out.reverse();
    Ok((out, depth))
}

fn set_items(target: &mut PyValue, kv: Vec<PyValue>) {
    if let PyValue::Dict(d) = target {
        let mut it = kv.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            d.insert(k.key(), v);
        }
    }
}

/// A pickle this reader cannot read; the message names the opcode and its byte offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PickleError(pub String);

/// Reads a pickle into a [`PyValue`]; the error names the opcode and its byte offset.
pub fn read_pickle(bytes: &[u8]) -> Result<PyValue, PickleError> {
    read_values(bytes).map_err(PickleError)
}

fn read_values(bytes: &[u8]) -> Result<PyValue, String> {
    let mut r = Reader { bytes, pos: 0 };
    let mut stack: Vec<Item> = Vec::new();
    let mut memo: BTreeMap<u64, (PyValue, usize)> = BTreeMap::new();
    let limit = copy_budget(bytes.len());
    let mut budget = limit;
    // Spends the budget on a copy of `v`; an error past it.
    let mut spend = |v: &PyValue, at: usize| -> Result<(), String> {
        let n = v
            .count_within(budget)
            .ok_or_else(|| format!("the pickle copies more than {limit} values through its memo (at byte {at})"))?;
        budget -= n;
        Ok(())
    };
    loop {
        let at = r.pos;
        let op = r.u8()?;
        // The nesting depth of the value this opcode pushes; containers set it.
        let mut depth = 0;
        let value = match op {
            0x80 => {
                r.u8()?;
                continue;
            } // PROTO
            0x95 => {
                r.take(8)?;
                continue;
            } // FRAME
            b'.' => return pop(&mut stack, op, at).map(|(v, _)| v), // STOP
            b'(' => {
                stack.push(Item::Mark);
                continue;
            }
            b'N' => PyValue::None,
            0x88 => PyValue::Bool(true),
            0x89 => PyValue::Bool(false),
            b'K' => PyValue::Int(r.le(1)? as i64),
            b'M' => PyValue::Int(r.le(2)? as i64),
            b'J' => PyValue::Int(r.le(4)? as u32 as i32 as i64),
            0x8a => {
                // LONG1: little-endian two's complement of n bytes
                let n = r.u8()? as usize;
                let b = r.take(n)?;
                if n > 8 {
                    PyValue::Opaque
                } else {
                    let mut v: i64 = 0;
                    for (i, &x) in b.iter().enumerate() {
                        v |= i64::from(x) << (8 * i);
                    }
                    if n > 0 && n < 8 && b[n - 1] & 0x80 != 0 {
                        v -= 1i64 << (8 * n);
                    }
                    PyValue::Int(v)
                }
            }
            b'G' => PyValue::Float(f64::from_be_bytes(r.take(8)?.try_into().map_err(|_| "short float")?)),
            b'X' => {
                let n = r.le(4)? as usize;
                r.text(n)?
            }
            0x8c => {
                let n = r.u8()? as usize;
                r.text(n)?
            }
            0x8d => {
                let n = r.le(8)? as usize;
                r.text(n)?
            }
            b'C' => {
                let n = r.u8()? as usize;
                PyValue::Bytes(r.take(n)?.to_vec())
            }
            b'B' => {
                let n = r.le(4)? as usize;
                PyValue::Bytes(r.take(n)?.to_vec())
            }
            b'}' => PyValue::Dict(BTreeMap::new()),
            b']' | b')' => PyValue::List(Vec::new()),
            b'c' => {
                let module = r.line()?;
                let name = r.line()?;
                PyValue::Global(format!("{module}.{name}"))
            }
            0x93 => {
                // STACK_GLOBAL
                let (name, _) = pop(&mut stack, op, at)?;
                let (module, _) = pop(&mut stack, op, at)?;
                PyValue::Global(format!("{}.{}", module.key(), name.key()))
            }
            b'Q' => {
                pop(&mut stack, op, at)?;
                PyValue::Opaque
            } // BINPERSID
            b't' => {
                let (items, d) = pop_mark(&mut stack, op, at)?;
                depth = d + 1;
                PyValue::List(items)
            }
            0x85..=0x87 => {
                let n = usize::from(op - 0x84);
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    let (v, d) = pop(&mut stack, op, at)?;
                    items.push(v);
                    depth = depth.max(d + 1);
                }
                items.reverse();
                PyValue::List(items)
            }
            b'R' | 0x81 => {
                // REDUCE / NEWOBJ: callable(args) -> an object of that class
                let _args = pop(&mut stack, op, at)?;
                match pop(&mut stack, op, at)?.0 {
                    PyValue::Global(class) => PyValue::Object { class, state: BTreeMap::new() },
                    _ => PyValue::Opaque,
                }
            }
            b'b' => {
                // BUILD: obj.__dict__.update(state)
                let (state, state_depth) = pop(&mut stack, op, at)?;
                let (obj, obj_depth) = pop(&mut stack, op, at)?;
                match (obj, state) {
                    (PyValue::Object { class, state: mut s }, PyValue::Dict(d)) => {
                        depth = obj_depth.max(state_depth);
                        s.extend(d);
                        PyValue::Object { class, state: s }
                    }
                    (obj, _) => {
                        depth = obj_depth;
                        obj
                    }
                }
            }
            b's' => {
                let (v, v_depth) = pop(&mut stack, op, at)?;
                let (k, k_depth) = pop(&mut stack, op, at)?;
                let (mut d, d_depth) = pop(&mut stack, op, at)?;
                depth = d_depth.max(v_depth.max(k_depth) + 1);
                set_items(&mut d, vec![k, v]);
                d
            }
            b'u' => {
                let (kv, kv_depth) = pop_mark(&mut stack, op, at)?;
                let (mut d, d_depth) = pop(&mut stack, op, at)?;
                depth = d_depth.max(kv_depth + 1);
                set_items(&mut d, kv);
                d
            }
            b'a' => {
                let (v, v_depth) = pop(&mut stack, op, at)?;
                let (mut l, l_depth) = pop(&mut stack, op, at)?;
                depth = l_depth.max(v_depth + 1);
                if let PyValue::List(items) = &mut l {
                    items.push(v);
                }
                l
            }
            b'e' => {
                let (vs, vs_depth) = pop_mark(&mut stack, op, at)?;
                let (mut l, l_depth) = pop(&mut stack, op, at)?;
                depth = l_depth.max(vs_depth + 1);
                if let PyValue::List(items) = &mut l {
                    items.extend(vs);
                }
                l
            }
            b'q' | b'r' | 0x94 => {
                let idx = match op {
                    b'q' => r.le(1)?,
                    b'r' => r.le(4)?,
                    _ => memo.len() as u64,
                };
                let Some(Item::Value(top, top_depth)) = stack.last() else {
                    return Err(format!("memo put at byte {at} with nothing to store"));
                };
                spend(top, at)?;
                memo.insert(idx, (top.clone(), *top_depth));
                continue;
            }
            b'h' | b'j' => {
                let idx = if op == b'h' { r.le(1)? } else { r.le(4)? };
                let (v, d) = memo.get(&idx).ok_or_else(|| format!("memo get {idx} at byte {at} refers to nothing"))?;
                spend(v, at)?;
                depth = *d;
                v.clone()
            }
            other => return Err(format!("unsupported pickle opcode 0x{other:02x} at byte {at}")),
        };
        if depth > MAX_NESTING {
            return Err(format!("values nest deeper than {MAX_NESTING} levels at byte {at}"));
        }
        stack.push(Item::Value(value, depth));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_namespace_dict_and_scalars() {
        // pickle.dumps({'a': 1, 'b': [2.5, None], 'ns': argparse.Namespace(k=300, s='x')}, protocol=2),
        // assembled by hand from the opcodes.
        let mut p = vec![0x80, 2, b'}', b'q', 0, b'('];
        p.extend([b'X', 1, 0, 0, 0, b'a', b'K', 1]);
        p.extend([b'X', 1, 0, 0, 0, b'b', b']', b'q', 1, b'(', b'G']);
        p.extend(2.5f64.to_be_bytes());
        p.extend([b'N', b'e']);
        p.extend([b'X', 2, 0, 0, 0, b'n', b's', b'c']);
        p.extend(b"argparse\nNamespace\n");
        p.extend([b')', 0x81, b'}', b'(', b'X', 1, 0, 0, 0, b'k', b'M', 0x2c, 0x01]);
        p.extend([b'X', 1, 0, 0, 0, b's', b'X', 1, 0, 0, 0, b'x', b'u', b'b', b'u', b'.']);
        let v = read_pickle(&p).unwrap();
        assert_eq!(v.get("a"), Some(&PyValue::Int(1)));
        assert_eq!(v.get("b"), Some(&PyValue::List(vec![PyValue::Float(2.5), PyValue::None])));
        let ns = v.get("ns").unwrap();
        assert!(matches!(ns, PyValue::Object { class, .. } if class == "argparse.Namespace"));
        assert_eq!(ns.get("k").and_then(PyValue::as_int), Some(300));
        assert_eq!(ns.get("s"), Some(&PyValue::Str("x".into())));
        assert!(read_pickle(&p[..p.len() - 3]).is_err(), "a truncated pickle is an error");
        assert!(read_pickle(&[0x80, 2, 0xff]).unwrap_err().0.contains("0xff at byte 2"));
    }

    #[test]
    fn a_class_named_by_a_container_is_named_by_its_kind() {
        // STACK_GLOBAL with a 1000-element list as the module name: `<list>.f`, not the list's contents.
        let mut p = vec![0x80, 4, b']', b'('];
        p.extend(std::iter::repeat_n(b'N', 1000));
        p.extend([b'e', 0x8c, 1, b'f', 0x93, b'.']);
        assert_eq!(read_pickle(&p), Ok(PyValue::Global("<list>.f".into())));
    }

    #[test]
    fn copies_of_copies_through_the_memo_are_bounded() {
        // memo[0] = [], then 40 times memo[0] = (memo[0], memo[0]): 2^40 values if each copy were made.
        let mut p = vec![0x80, 2, b']', b'q', 0];
        for _ in 0..40 {
            p.extend([b'h', 0, b'h', 0, 0x86, b'q', 0]);
        }
        p.push(b'.');
        let e = read_pickle(&p).unwrap_err().0;
        assert!(e.contains("copies more than"), "{e}");
        // A few levels stay well inside the budget.
        let mut small = vec![0x80, 2, b']', b'q', 0];
        for _ in 0..5 {
            small.extend([b'h', 0, b'h', 0, 0x86, b'q', 0]);
        }
        small.push(b'.');
        assert!(matches!(read_pickle(&small), Ok(PyValue::List(v)) if v.len() == 2));
    }

    #[test]
    fn nesting_is_bounded_before_it_can_exhaust_the_stack() {
        // `N` then TUPLE1 n times: a value nested n levels deep, one byte per level. Dropping or
        // copying such a value recurses, so a large file could overflow the stack; past
        // MAX_NESTING the reader refuses it, naming the byte.
        let nested = |n: usize| {
            let mut p = vec![0x80, 2, b'N'];
            p.extend(std::iter::repeat_n(0x85u8, n));
            p.push(b'.');
            p
        };
        let ok = read_pickle(&nested(MAX_NESTING)).unwrap();
        let mut depth = 0;
        let mut v = &ok;
        while let PyValue::List(items) = v {
            depth += 1;
            v = &items[0];
        }
        assert_eq!(depth, MAX_NESTING);
        let e = read_pickle(&nested(MAX_NESTING + 1)).unwrap_err();
        assert!(e.0.contains("nest deeper than 1000") && e.0.contains(&format!("byte {}", MAX_NESTING + 3)), "{e}");
        // A million levels: refused as quickly, without a stack overflow.
        assert!(read_pickle(&nested(1_000_000)).is_err());
        // Lists grown by APPEND count too: n + 1 empty lists, then n APPENDs each put the list on top
        // into the one below it: n levels.
        let mut p = vec![0x80, 2];
        p.extend(std::iter::repeat_n(b']', MAX_NESTING + 2));
        p.extend(std::iter::repeat_n(b'a', MAX_NESTING + 1));
        p.push(b'.');
        assert!(read_pickle(&p).unwrap_err().0.contains("nest deeper"));
    }
}
