//! One kind's rows with the indexes every list needs: by project (in id order), by name
//! and by label. A list of 50 of one project's 100,000 servers, a name-uniqueness check
//! or a `label_selector` query touches the rows it returns (or the smallest index set a
//! selector allows), never every row of every project.

use crate::ids::{ProjectId, ResourceRef};
use crate::labels::{IndexTerm, Labels, Selector};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::sync::Arc;

use super::ranked::RankedSet;

/// What the indexes need to know about a record.
pub trait Row: Send + Sync + 'static {
    fn key(&self) -> ResourceRef;
    /// The owning project; `None` for the catalogue and for projects themselves.
    fn project(&self) -> Option<ProjectId> {
        None
    }
    fn name(&self) -> Option<&str> {
        None
    }
    fn labels(&self) -> Option<&Labels> {
        None
    }
    /// The resources this row points at, for reverse lookups ("the volumes of server
    /// 7", "the actions on volume 9"): see `State::linked`.
    fn links(&self, _out: &mut Vec<ResourceRef>) {}
    /// Whether rows of this kind have classes: subsets of the table that lists ask for
    /// alone (an IP's role: primary IPs and floating IPs are listed apart). Only such
    /// tables keep the index by class.
    const CLASSED: bool = false;
    /// The row's class when [`Row::CLASSED`]; every other row is of class 0.
    fn class(&self) -> u8 {
        0
    }
}

/// Where [`Table::exact`] found its rows.
#[derive(Debug)]
enum ExactSet<'a> {
    /// Positions in one of the ranked indexes; each entry ends with the row's id.
    Ranks(&'a dyn RankedIds, Range<usize>),
    /// The rows with one label (none when nothing has it).
    Label(Option<&'a BTreeSet<i64>>),
}

/// A ranked index whose entries end with a row id.
trait RankedIds: std::fmt::Debug {
    fn id_at(&self, rank: usize) -> Option<i64>;
}

/// An index entry: what it is sorted by, then the row's id.
trait EndsWithId {
    fn row_id(&self) -> i64;
}

impl EndsWithId for (ProjectId, i64) {
    fn row_id(&self) -> i64 {
        self.1
    }
}

impl<K> EndsWithId for (ProjectId, K, i64) {
    fn row_id(&self) -> i64 {
        self.2
    }
}

impl<E: EndsWithId + Ord + Clone + std::fmt::Debug> RankedIds for RankedSet<E> {
    fn id_at(&self, rank: usize) -> Option<i64> {
        self.at(rank..rank + 1).next().map(EndsWithId::row_id)
    }
}

/// The rows a list selects, as [`Table::exact`] found them.
#[derive(Debug)]
pub struct Exact<'a, T> {
    table: &'a Table<T>,
    set: ExactSet<'a>,
}

impl<'a, T: Row> Exact<'a, T> {
    pub fn len(&self) -> usize {
        match &self.set {
            ExactSet::Ranks(_, ranks) => ranks.len(),
            ExactSet::Label(ids) => ids.map_or(0, BTreeSet::len),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows at positions `range` (in id order), clamped to what there is.
    pub fn page(&self, range: Range<usize>) -> Vec<&'a Arc<T>> {
        let table = self.table;
        match &self.set {
            ExactSet::Ranks(index, ranks) => {
                let start = ranks.start.saturating_add(range.start).min(ranks.end);
                let end = ranks.start.saturating_add(range.end).min(ranks.end);
                (start..end).filter_map(|rank| index.id_at(rank)).filter_map(|id| table.rows.get(&id)).collect()
            }
            ExactSet::Label(ids) => ids
                .iter()
                .flat_map(|set| set.iter())
                .skip(range.start)
                .take(range.len())
                .filter_map(|id| table.rows.get(id))
                .collect(),
        }
    }
}

/// The project key of rows without a project.
const NO_PROJECT: ProjectId = ProjectId(0);

#[derive(Debug)]
pub struct Table<T> {
    rows: BTreeMap<i64, Arc<T>>,
    by_project: RankedSet<(ProjectId, i64)>,
    by_name: RankedSet<(ProjectId, String, i64)>,
    by_class: RankedSet<(ProjectId, u8, i64)>,
    /// (project, key, value) -> ids.
    by_label: BTreeMap<(ProjectId, String, String), BTreeSet<i64>>,
    counts: HashMap<ProjectId, usize>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            rows: BTreeMap::new(),
            by_project: RankedSet::default(),
            by_name: RankedSet::default(),
            by_class: RankedSet::default(),
            by_label: BTreeMap::new(),
            counts: HashMap::new(),
        }
    }
}

impl<T: Row> Table<T> {
    pub fn get(&self, id: i64) -> Option<&Arc<T>> {
        self.rows.get(&id)
    }

    pub fn contains(&self, id: i64) -> bool {
        self.rows.contains_key(&id)
    }

    /// Every row, in id order (the catalogue's lists, start-up, admin listings).
    pub fn all(&self) -> impl DoubleEndedIterator<Item = &Arc<T>> + '_ {
        self.rows.values()
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows of `project` (of no project for `None`), in id order.
    pub fn of(&self, project: Option<ProjectId>) -> impl DoubleEndedIterator<Item = &Arc<T>> + '_ {
        let p = project.unwrap_or(NO_PROJECT);
        self.by_project.between(&(p, i64::MIN), &(p, i64::MAX)).filter_map(|(_, id)| self.rows.get(id))
    }

    /// How many rows `project` has.
    pub fn count(&self, project: Option<ProjectId>) -> usize {
        self.counts.get(&project.unwrap_or(NO_PROJECT)).copied().unwrap_or(0)
    }

    /// The rows of `project` named `name`, in id order.
    pub fn named<'a>(&'a self, project: Option<ProjectId>, name: &str) -> impl Iterator<Item = &'a Arc<T>> + 'a {
        let p = project.unwrap_or(NO_PROJECT);
        let lo = (p, name.to_string(), i64::MIN);
        let hi = (p, name.to_string(), i64::MAX);
        self.by_name.between(&lo, &hi).filter_map(|(_, _, id)| self.rows.get(id))
    }

    /// The rows of `project` in name order (ties in id order); unnamed rows are left out.
    pub fn by_name(&self, project: Option<ProjectId>) -> impl DoubleEndedIterator<Item = &Arc<T>> + '_ {
        let p = project.unwrap_or(NO_PROJECT);
        let start = self.by_name.rank(&(p, String::new(), i64::MIN));
        let end = match p.0.checked_add(1) {
            Some(next) => self.by_name.rank(&(ProjectId(next), String::new(), i64::MIN)),
            None => self.by_name.len(),
        };
        self.by_name.at(start..end).filter_map(|(_, _, id)| self.rows.get(id))
    }

    /// The rows of `project` that `name` and `selector` select, when one index answers
    /// that exactly (no filter, a name, or a selector of one `key=value`): how many there
    /// are and any page of them, without touching the other rows. `None` when the rows
    /// must be tested one by one (see [`Table::candidates`]).
    pub fn exact<'a>(
        &'a self,
        project: Option<ProjectId>,
        name: Option<&str>,
        selector: Option<&Selector>,
    ) -> Option<Exact<'a, T>> {
        let p = project.unwrap_or(NO_PROJECT);
        let set = match (name, selector) {
            (None, None) => {
                let start = self.by_project.rank(&(p, i64::MIN));
                ExactSet::Ranks(&self.by_project, start..start + self.count(project))
            }
            (Some(name), None) => {
                let ranks = self.by_name.ranks(&(p, name.to_string(), i64::MIN), &(p, name.to_string(), i64::MAX));
                ExactSet::Ranks(&self.by_name, ranks)
            }
            (None, Some(selector)) => {
                let (key, value) = selector.single_equals()?;
                ExactSet::Label(self.label_set(p, key, value))
            }
            (Some(_), Some(_)) => return None,
        };
        Some(Exact { table: self, set })
    }

    /// The rows of `project` of one class (see [`Row::class`]), as [`Table::exact`] gives
    /// a project's rows.
    pub fn exact_class(&self, project: Option<ProjectId>, class: u8) -> Exact<'_, T> {
        let p = project.unwrap_or(NO_PROJECT);
        if !T::CLASSED {
            // Every row is of class 0.
            let start = self.by_project.rank(&(p, i64::MIN));
            let len = if class == 0 { self.count(project) } else { 0 };
            return Exact { table: self, set: ExactSet::Ranks(&self.by_project, start..start + len) };
        }
        let ranks = self.by_class.ranks(&(p, class, i64::MIN), &(p, class, i64::MAX));
        Exact { table: self, set: ExactSet::Ranks(&self.by_class, ranks) }
    }

    /// The rows of `project` that may match `name` and `selector`, in id order: the
    /// smallest candidate set the indexes give. Callers still test each row, since an
    /// index narrows by one requirement only.
    pub fn candidates<'a>(
        &'a self,
        project: Option<ProjectId>,
        name: Option<&str>,
        selector: Option<&Selector>,
    ) -> Vec<&'a Arc<T>> {
        let p = project.unwrap_or(NO_PROJECT);
        if let Some(name) = name {
            return self.named(project, name).collect();
        }
        let best = selector.and_then(|s| self.smallest_set(p, s));
        match best {
            Some(ids) => ids.into_iter().filter_map(|id| self.rows.get(&id)).collect(),
            None => self.of(project).collect(),
        }
    }

    /// The ids the most selective indexable requirement allows, if any is indexable.
    fn smallest_set(&self, p: ProjectId, selector: &Selector) -> Option<Vec<i64>> {
        let size_of = |term: &IndexTerm| -> usize {
            match term {
                IndexTerm::Equals(k, v) => self.label_set(p, k, v).map_or(0, BTreeSet::len),
                IndexTerm::In(k, vs) => vs.iter().filter_map(|v| self.label_set(p, k, v)).map(BTreeSet::len).sum(),
            }
        };
        let terms = selector.index_terms();
        let best = terms.iter().min_by_key(|t| size_of(t))?;
        let mut ids: Vec<i64> = match best {
            IndexTerm::Equals(k, v) => self.label_set(p, k, v).map(|s| s.iter().copied().collect()).unwrap_or_default(),
            IndexTerm::In(k, vs) => vs.iter().filter_map(|v| self.label_set(p, k, v)).flatten().copied().collect(),
        };
        if matches!(best, IndexTerm::In(..)) {
            ids.sort_unstable();
            ids.dedup();
        }
        Some(ids)
    }

    fn label_set(&self, p: ProjectId, key: &str, value: &str) -> Option<&BTreeSet<i64>> {
        // TODO-scalability: a page deep into one label's rows walks the pages before it
        // (the count and the first pages do not); a ranked set per label would cost 8 KiB
        // each, too much for labels that are unique per server.
        self.by_label.get(&(p, key.to_string(), value.to_string()))
    }

    /// Inserts or replaces a row; returns the row it replaced.
    pub(crate) fn insert(&mut self, row: Arc<T>) -> Option<Arc<T>> {
        let id = row.key().id;
        let old = self.remove(id);
        let p = row.project().unwrap_or(NO_PROJECT);
        self.by_project.insert((p, id));
        if T::CLASSED {
            self.by_class.insert((p, row.class(), id));
        }
        *self.counts.entry(p).or_default() += 1;
        if let Some(name) = row.name() {
            self.by_name.insert((p, name.to_string(), id));
        }
        if let Some(labels) = row.labels() {
            for (k, v) in labels {
                self.by_label.entry((p, k.clone(), v.clone())).or_default().insert(id);
            }
        }
        self.rows.insert(id, row);
        old
    }

    pub(crate) fn remove(&mut self, id: i64) -> Option<Arc<T>> {
        let row = self.rows.remove(&id)?;
        let p = row.project().unwrap_or(NO_PROJECT);
        self.by_project.remove(&(p, id));
        if T::CLASSED {
            self.by_class.remove(&(p, row.class(), id));
        }
        if let Some(count) = self.counts.get_mut(&p) {
            *count -= 1;
            if *count == 0 {
                self.counts.remove(&p);
            }
        }
        if let Some(name) = row.name() {
            self.by_name.remove(&(p, name.to_string(), id));
        }
        if let Some(labels) = row.labels() {
            for (k, v) in labels {
                let key = (p, k.clone(), v.clone());
                if let Some(set) = self.by_label.get_mut(&key) {
                    set.remove(&id);
                    if set.is_empty() {
                        self.by_label.remove(&key);
                    }
                }
            }
        }
        Some(row)
    }

    /// Lets an in-memory-only update (action progress) change a row in place. The row's
    /// indexed fields must not change.
    pub(crate) fn get_mut(&mut self, id: i64) -> Option<&mut Arc<T>> {
        self.rows.get_mut(&id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ResourceKind;

    #[derive(Debug)]
    struct Thing {
        id: i64,
        project: ProjectId,
        name: String,
        labels: Labels,
    }

    impl Row for Thing {
        fn key(&self) -> ResourceRef {
            ResourceRef { kind: ResourceKind::Server, id: self.id }
        }
        fn project(&self) -> Option<ProjectId> {
            Some(self.project)
        }
        fn name(&self) -> Option<&str> {
            Some(&self.name)
        }
        fn labels(&self) -> Option<&Labels> {
            Some(&self.labels)
        }
        const CLASSED: bool = true;
        /// Multiples of three form a class of their own.
        fn class(&self) -> u8 {
            u8::from(self.id % 3 == 0)
        }
    }

    fn thing(id: i64, project: i64, name: &str, labels: &[(&str, &str)]) -> Arc<Thing> {
        Arc::new(Thing {
            id,
            project: ProjectId(project),
            name: name.into(),
            labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        })
    }

    fn ids<'a>(rows: impl IntoIterator<Item = &'a Arc<Thing>>) -> Vec<i64> {
        rows.into_iter().map(|t| t.id).collect()
    }

    #[test]
    fn indexes_follow_inserts_replacements_and_removals() {
        let mut t = Table::default();
        t.insert(thing(3, 1, "b", &[("env", "prod")]));
        t.insert(thing(1, 1, "a", &[("env", "dev")]));
        t.insert(thing(2, 2, "a", &[("env", "prod")]));
        assert_eq!(ids(t.of(Some(ProjectId(1)))), [1, 3]);
        assert_eq!(t.count(Some(ProjectId(1))), 2);
        assert_eq!(ids(t.named(Some(ProjectId(1)), "a")), [1]);
        assert_eq!(ids(t.by_name(Some(ProjectId(1)))), [1, 3]);
        let prod = Selector::parse("env=prod").unwrap();
        assert_eq!(ids(t.candidates(Some(ProjectId(1)), None, Some(&prod))), [3]);

        // Renaming and relabelling moves the row in every index.
        t.insert(thing(3, 1, "0", &[("env", "dev")]));
        assert_eq!(ids(t.by_name(Some(ProjectId(1)))), [3, 1]);
        assert!(t.candidates(Some(ProjectId(1)), None, Some(&prod)).is_empty());
        let dev = Selector::parse("env in (dev,qa),tier!=x").unwrap();
        assert_eq!(ids(t.candidates(Some(ProjectId(1)), None, Some(&dev))), [1, 3]);
        // Without an indexable requirement, every row of the project is a candidate.
        let any = Selector::parse("!tier").unwrap();
        assert_eq!(ids(t.candidates(Some(ProjectId(1)), None, Some(&any))), [1, 3]);

        t.remove(1);
        t.remove(3);
        assert_eq!(t.count(Some(ProjectId(1))), 0);
        assert!(t.by_label.keys().all(|(p, _, _)| *p == ProjectId(2)));
        assert_eq!(ids(t.by_name(Some(ProjectId(2)))), [2]);
    }

    /// Enough rows to span many nodes of the ranked indexes, in two projects.
    #[test]
    fn exact_answers_count_and_any_page_from_the_indexes() {
        let mut t = Table::default();
        for id in 1..=5000 {
            let group = format!("g{}", id % 10);
            t.insert(thing(id, 1 + id % 2, &format!("n{id:05}"), &[("group", group.as_str())]));
        }
        let p1 = Some(ProjectId(1));
        let all = t.exact(p1, None, None).expect("no filter is exact");
        assert_eq!(all.len(), 2500);
        let in_p1: Vec<i64> = (1..=5000).filter(|id| id % 2 == 0).collect();
        assert_eq!(ids(all.page(0..50)), in_p1[..50]);
        assert_eq!(ids(all.page(2450..2500)), in_p1[2450..]);
        assert_eq!(ids(all.page(2490..2600)), in_p1[2490..]);
        assert!(all.page(3000..3050).is_empty());

        // Every name is found once, and only in its project.
        for id in (1..=5000).step_by(37) {
            let named = t.exact(Some(ProjectId(1 + id % 2)), Some(&format!("n{id:05}")), None).expect("exact");
            assert_eq!((named.len(), ids(named.page(0..25))), (1, vec![id]));
            assert!(t.exact(Some(ProjectId(2 - id % 2)), Some(&format!("n{id:05}")), None).expect("exact").is_empty());
            assert_eq!(ids(t.named(Some(ProjectId(1 + id % 2)), &format!("n{id:05}"))), [id]);
        }

        let g4 = Selector::parse("group=g4").unwrap();
        let labelled = t.exact(p1, None, Some(&g4)).expect("one key=value is exact");
        let want: Vec<i64> = in_p1.iter().copied().filter(|id| id % 10 == 4).collect();
        assert_eq!(labelled.len(), want.len());
        assert_eq!(ids(labelled.page(10..20)), want[10..20]);
        assert!(t.exact(p1, None, Some(&Selector::parse("group=nothing").unwrap())).expect("exact").is_empty());

        // What an index cannot answer alone is left to the row-by-row path.
        for selector in ["group=g4,group!=g5", "group!=g4", "group in (g4,g6)", "group"] {
            assert!(t.exact(p1, None, Some(&Selector::parse(selector).unwrap())).is_none(), "{selector}");
        }
        assert!(t.exact(p1, Some("n00002"), Some(&g4)).is_none());

        let thirds: Vec<i64> = in_p1.iter().copied().filter(|id| id % 3 == 0).collect();
        let class = t.exact_class(p1, 1);
        assert_eq!((class.len(), ids(class.page(100..110))), (thirds.len(), thirds[100..110].to_vec()));
        assert_eq!(t.exact_class(p1, 0).len(), 2500 - thirds.len());
        assert_eq!(ids(t.by_name(p1)).len(), 2500);
        t.remove(6);
        assert_eq!(t.exact_class(p1, 1).len(), thirds.len() - 1);
    }
}
