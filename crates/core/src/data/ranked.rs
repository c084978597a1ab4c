//! An ordered set that also answers "the n-th element" and "how many are smaller" in
//! O(log n): what lets a page deep into a project's 100,000 servers, and the count of a
//! name's rows, cost what the first page costs.
//!
//! A thin wrapper over `indexset`'s order-statistic B-tree that reaches it only through
//! `rank` and `get_index`: its own `range` returned elements outside inclusive bounds
//! (measured on 0.12.7), and the test below keeps the wrapper honest against std's set.

use std::ops::Range;

#[derive(Debug)]
pub(crate) struct RankedSet<T: Ord>(indexset::BTreeSet<T>);

impl<T: Ord> Default for RankedSet<T> {
    fn default() -> Self {
        RankedSet(indexset::BTreeSet::new())
    }
}

impl<T: Ord + Clone> RankedSet<T> {
    pub(crate) fn insert(&mut self, value: T) -> bool {
        self.0.insert(value)
    }

    pub(crate) fn remove(&mut self, value: &T) -> bool {
        self.0.remove(value)
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// How many elements are smaller than `value`.
    pub(crate) fn rank(&self, value: &T) -> usize {
        self.0.rank(value)
    }

    /// The positions of the elements from `lo` to `hi`, both included.
    pub(crate) fn ranks(&self, lo: &T, hi: &T) -> Range<usize> {
        let start = self.rank(lo);
        let end = self.rank(hi) + usize::from(self.0.contains(hi));
        start..end.max(start)
    }

    /// The elements at positions `ranks`, in order.
    pub(crate) fn at(&self, ranks: Range<usize>) -> impl DoubleEndedIterator<Item = &T> + '_ {
        ranks.filter_map(move |i| self.0.get_index(i))
    }

    /// The elements from `lo` to `hi`, both included, in order.
    pub(crate) fn between(&self, lo: &T, hi: &T) -> impl DoubleEndedIterator<Item = &T> + '_ {
        self.at(self.ranks(lo, hi))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Random inserts and removals of (project, name, id) keys, compared with std's set
    /// after every few hundred: positions, ranks of present and absent keys, ranges.
    #[test]
    fn agrees_with_std_btreeset() {
        let mut ranked: RankedSet<(u8, String, i64)> = RankedSet::default();
        let mut std: BTreeSet<(u8, String, i64)> = BTreeSet::new();
        let mut x: u64 = 12345;
        for step in 0..40_000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let key = (
                u8::try_from(x >> 61).unwrap_or(0),
                format!("n{:04}", (x >> 40) % 2000),
                i64::try_from((x >> 20) % 50).unwrap_or(0),
            );
            if (x >> 10).is_multiple_of(3) {
                assert_eq!(ranked.remove(&key), std.remove(&key));
            } else {
                assert_eq!(ranked.insert(key.clone()), std.insert(key));
            }
            if !step.is_multiple_of(499) {
                continue;
            }
            let all: Vec<_> = std.iter().cloned().collect();
            assert_eq!(ranked.at(0..all.len() + 3).cloned().collect::<Vec<_>>(), all);
            for (i, e) in all.iter().enumerate().step_by(7) {
                assert_eq!(ranked.rank(e), i);
            }
            for p in 0..8u8 {
                let name = format!("n{:04}", (x >> 30) % 2000);
                let (lo, hi) = ((p, name.clone(), i64::MIN), (p, name, i64::MAX));
                let want: Vec<_> = std.range(lo.clone()..=hi.clone()).cloned().collect();
                assert_eq!(ranked.between(&lo, &hi).cloned().collect::<Vec<_>>(), want);
                assert_eq!(
                    ranked.between(&lo, &hi).rev().cloned().collect::<Vec<_>>(),
                    want.into_iter().rev().collect::<Vec<_>>()
                );
                let (lo, hi) = ((p, String::new(), i64::MIN), (p, "~".to_string(), i64::MAX));
                assert_eq!(ranked.between(&lo, &hi).count(), std.range(lo..=hi).count());
            }
        }
    }
}
