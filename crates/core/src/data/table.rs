//! One kind's rows with the indexes every list needs: by project (in id order), by name
//! and by label. A list of 50 of one project's 100,000 servers, a name-uniqueness check
//! or a `label_selector` query touches the rows it returns (or the smallest index set a
//! selector allows), never every row of every project.

use crate::ids::{ProjectId, ResourceRef};
use crate::labels::{IndexTerm, Labels, Selector};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::Arc;

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
}

/// The project key of rows without a project.
const NO_PROJECT: ProjectId = ProjectId(0);

#[derive(Debug)]
pub struct Table<T> {
    rows: BTreeMap<i64, Arc<T>>,
    by_project: BTreeSet<(ProjectId, i64)>,
    by_name: BTreeSet<(ProjectId, String, i64)>,
    /// (project, key, value) -> ids.
    by_label: BTreeMap<(ProjectId, String, String), BTreeSet<i64>>,
    counts: HashMap<ProjectId, usize>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            rows: BTreeMap::new(),
            by_project: BTreeSet::new(),
            by_name: BTreeSet::new(),
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
        self.by_project.range((p, i64::MIN)..=(p, i64::MAX)).filter_map(|(_, id)| self.rows.get(id))
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
        self.by_name.range(lo..=hi).filter_map(|(_, _, id)| self.rows.get(id))
    }

    /// The rows of `project` in name order (ties in id order); unnamed rows are left out.
    pub fn by_name(&self, project: Option<ProjectId>) -> impl DoubleEndedIterator<Item = &Arc<T>> + '_ {
        let p = project.unwrap_or(NO_PROJECT);
        let lo = Bound::Included((p, String::new(), i64::MIN));
        let hi = match p.0.checked_add(1) {
            Some(next) => Bound::Excluded((ProjectId(next), String::new(), i64::MIN)),
            None => Bound::Unbounded,
        };
        self.by_name.range((lo, hi)).filter_map(|(_, _, id)| self.rows.get(id))
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
        self.by_label.get(&(p, key.to_string(), value.to_string()))
    }

    /// Inserts or replaces a row; returns the row it replaced.
    pub(crate) fn insert(&mut self, row: Arc<T>) -> Option<Arc<T>> {
        let id = row.key().id;
        let old = self.remove(id);
        let p = row.project().unwrap_or(NO_PROJECT);
        self.by_project.insert((p, id));
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
}
