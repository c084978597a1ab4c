//! Page arithmetic shared by every dialect that pages lists (Hetzner `page`/`per_page`,
//! IONOS `page`/`per_page`); each dialect renders the numbers in its own envelope.

/// Where a page sits in a list of `total` items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: u64,
    pub per_page: u64,
    pub total: u64,
}

impl Page {
    /// `page` is 1-based; a page past the end is valid and empty, as Hetzner answers it.
    pub fn new(page: u64, per_page: u64, total: u64) -> Self {
        Page { page: page.max(1), per_page: per_page.max(1), total }
    }

    /// The last page; 1 for an empty list, so that page 1 always exists.
    pub fn last_page(&self) -> u64 {
        self.total.div_ceil(self.per_page).max(1)
    }

    pub fn previous_page(&self) -> Option<u64> {
        (self.page > 1).then(|| (self.page - 1).min(self.last_page()))
    }

    pub fn next_page(&self) -> Option<u64> {
        (self.page < self.last_page()).then_some(self.page + 1)
    }

    /// The index range of this page's items, clamped to the list.
    pub fn range(&self) -> std::ops::Range<usize> {
        let clamp = |n: u64| usize::try_from(n.min(self.total)).unwrap_or(usize::MAX);
        let start = (self.page - 1).saturating_mul(self.per_page);
        clamp(start)..clamp(start.saturating_add(self.per_page))
    }

    /// This page's items of `items`.
    pub fn slice<'a, T>(&self, items: &'a [T]) -> &'a [T] {
        &items[self.range()]
    }
}

#[cfg(test)]
mod tests {
    use super::Page;

    #[test]
    fn pages_of_a_list() {
        let p = Page::new(1, 25, 0);
        assert_eq!((p.previous_page(), p.next_page(), p.last_page(), p.range()), (None, None, 1, 0..0));
        let p = Page::new(1, 25, 100);
        assert_eq!((p.previous_page(), p.next_page(), p.last_page(), p.range()), (None, Some(2), 4, 0..25));
        let p = Page::new(2, 25, 100);
        assert_eq!((p.previous_page(), p.next_page(), p.range()), (Some(1), Some(3), 25..50));
        let p = Page::new(4, 25, 100);
        assert_eq!((p.previous_page(), p.next_page(), p.range()), (Some(3), None, 75..100));
        let p = Page::new(3, 50, 101);
        assert_eq!((p.next_page(), p.last_page(), p.range()), (None, 3, 100..101));
        // Past the end: empty, and no next page, so clients looping on next_page stop.
        let p = Page::new(9, 50, 101);
        assert_eq!((p.next_page(), p.previous_page(), p.range()), (None, Some(3), 101..101));
        assert_eq!(Page::new(0, 0, 5).range(), 0..1);
    }
}
