//! Reads a Django `dumpdata` JSON file one object at a time: the top-level array is walked by a
//! serde visitor, so memory holds one record, never the file.

use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

/// One object of the dump: `{"model": "app.model", "pk": …, "fields": {…}}`.
#[derive(Debug, Deserialize)]
pub struct Record {
    pub model: String,
    #[serde(default)]
    pub pk: Value,
    #[serde(default)]
    pub fields: Map<String, Value>,
}

/// What a record turned out to be: a record, or a member of the array that is not one (its
/// position and why), so a bad record is reported instead of ending the read.
pub enum Item {
    Record(Record),
    Malformed { index: u64, why: String },
}

/// Calls `each` with every item of the file's array, in order; stops early when it answers
/// false. `bytes` counts what was read of the file. Errors are the file's (unreadable, not
/// JSON, not an array).
pub fn read(path: &Path, bytes: &AtomicU64, each: impl FnMut(Item) -> bool) -> Result<(), String> {
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let counted = Counted { inner: file, bytes };
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 20, counted));
    Walk { each }
        .deserialize(&mut de)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    de.end().map_err(|e| format!("{}: {e}", path.display()))
}

/// A reader that counts the bytes it hands on.
struct Counted<'a, R> {
    inner: R,
    bytes: &'a AtomicU64,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

struct Walk<F> {
    each: F,
}

impl<'de, F: FnMut(Item) -> bool> DeserializeSeed<'de> for Walk<F> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(Item) -> bool> Visitor<'de> for Walk<F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a dumpdata array of objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        while let Some(value) = seq.next_element::<Value>()? {
            let item = match serde_json::from_value::<Record>(value) {
                Ok(r) => Item::Record(r),
                Err(e) => Item::Malformed {
                    index,
                    why: e.to_string(),
                },
            };
            index += 1;
            if !(self.each)(item) {
                // Stop reading: drain nothing more (the caller gave up).
                return Err(serde::de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}
