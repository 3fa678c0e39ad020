//! Paginated lists: `{items, next_cursor, total_pages, current_page, total_items}`.

use serde::{Deserialize, Serialize};

/// One page of a list endpoint; `next_cursor` is absent on the last page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `None` on the last page.
    #[serde(default)]
    pub next_cursor: Option<String>,
    /// Number of pages at this `limit`.
    pub total_pages: u64,
    /// 1-based number of this page.
    pub current_page: u64,
    /// Number of items across all pages.
    pub total_items: u64,
}

/// Default page size of list endpoints.
pub const DEFAULT_LIMIT: u32 = 20;
/// Largest page size a list endpoint accepts.
pub const MAX_LIMIT: u32 = 100;
/// Largest page number a cursor may name: far past any real list, and small enough that its
/// offset always fits the stores' signed 64-bit integers.
pub const MAX_PAGE: u64 = 1_000_000_000;

/// A decoded page request: which page, and how many per page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based page number.
    pub page: u64,
    /// Items per page.
    pub limit: u32,
}

impl PageRequest {
    /// Reads `cursor` and `limit` as the API accepts them, naming the bad field.
    pub fn parse(cursor: Option<&str>, limit: Option<&str>) -> crate::Result<Self> {
        Self::parse_up_to(cursor, limit, MAX_LIMIT)
    }

    /// [`Self::parse`] for a list whose pages may hold up to `max` items.
    pub fn parse_up_to(cursor: Option<&str>, limit: Option<&str>, max: u32) -> crate::Result<Self> {
        let page = match cursor.filter(|c| !c.is_empty()) {
            None => 1,
            Some(c) => c
                .parse::<u64>()
                .ok()
                .filter(|p| (1..=MAX_PAGE).contains(p))
                .ok_or_else(|| crate::Error::validation("cursor", "expected a cursor from a previous page's next_cursor"))?,
        };
        let limit = match limit.filter(|l| !l.is_empty()) {
            None => DEFAULT_LIMIT,
            Some(l) => l
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| crate::Error::validation("limit", format!("expected an integer from 1 to {max}")))?,
        };
        Ok(Self { page, limit })
    }

    /// This request's page of `all`.
    pub fn slice<T>(&self, all: Vec<T>) -> Page<T> {
        let total = all.len() as u64;
        let items = all.into_iter().skip(usize::try_from(self.offset()).unwrap_or(usize::MAX)).take(self.limit as usize).collect();
        self.page_of(items, total)
    }

    /// Rows to skip (saturating: a request built by hand cannot overflow it).
    pub fn offset(&self) -> u64 {
        self.page.saturating_sub(1).saturating_mul(self.limit as u64).min(i64::MAX as u64)
    }

    /// Builds the page from this request's slice of items and the total count.
    pub fn page_of<T>(&self, items: Vec<T>, total_items: u64) -> Page<T> {
        let limit = self.limit as u64;
        let total_pages = total_items.div_ceil(limit);
        let next_cursor = (self.page < total_pages.min(MAX_PAGE)).then(|| (self.page + 1).to_string());
        Page { items, next_cursor, total_pages, current_page: self.page, total_items }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_walk_to_the_end_and_stop() {
        let first = PageRequest::parse(None, Some("2")).unwrap();
        let p = first.page_of(vec![1, 2], 5);
        assert_eq!((p.total_pages, p.current_page, p.next_cursor.as_deref()), (3, 1, Some("2")));
        let last = PageRequest::parse(Some("3"), Some("2")).unwrap();
        assert_eq!(last.offset(), 4);
        assert_eq!(last.page_of(vec![5], 5).next_cursor, None);
    }

    #[test]
    fn a_list_is_sliced_into_pages_up_to_its_own_largest_limit() {
        let all: Vec<u32> = (1..=7).collect();
        let p = PageRequest::parse_up_to(Some("2"), Some("3"), 500).unwrap().slice(all.clone());
        assert_eq!((p.items, p.next_cursor.as_deref(), p.total_items, p.total_pages), (vec![4, 5, 6], Some("3"), 7, 3));
        assert_eq!(PageRequest::parse_up_to(None, Some("500"), 500).unwrap().slice(all.clone()).items.len(), 7);
        assert!(PageRequest::parse_up_to(None, Some("501"), 500).is_err());
        assert!(PageRequest::parse(None, Some("500")).is_err(), "other lists keep their limit");
        assert!(PageRequest::parse(Some("9"), None).unwrap().slice(all).items.is_empty());
    }

    #[test]
    fn bad_cursor_and_limit_name_their_field() {
        let e = PageRequest::parse(Some("abc"), None).unwrap_err();
        assert!(matches!(e, crate::Error::Validation { ref field, .. } if field == "cursor"));
        let e = PageRequest::parse(None, Some("0")).unwrap_err();
        assert!(matches!(e, crate::Error::Validation { ref field, .. } if field == "limit"));
        let e = PageRequest::parse(None, Some("1000")).unwrap_err();
        assert!(matches!(e, crate::Error::Validation { ref field, .. } if field == "limit"));
    }

    #[test]
    fn a_huge_cursor_is_a_bad_cursor_not_an_overflow() {
        for c in ["18446744073709551615", "9223372036854775808", "1000000001", "99999999999999999999999"] {
            let e = PageRequest::parse(Some(c), Some("100")).unwrap_err();
            assert!(matches!(e, crate::Error::Validation { ref field, .. } if field == "cursor"), "{c}: {e}");
        }
        let last = PageRequest::parse(Some(&MAX_PAGE.to_string()), Some("100")).unwrap();
        assert!(i64::try_from(last.offset()).is_ok());
        assert_eq!(PageRequest { page: u64::MAX, limit: u32::MAX }.offset(), i64::MAX as u64);
    }

    proptest::proptest! {
        /// Any cursor and limit text parses or names its field; never panics; an accepted one
        /// has an offset the stores can take.
        #[test]
        fn cursor_parsing_never_panics(cursor in proptest::prelude::any::<String>(), limit in "[0-9]{0,12}|\\PC{0,8}") {
            match PageRequest::parse(Some(&cursor), Some(&limit)) {
                Ok(p) => {
                    proptest::prop_assert!(p.page >= 1 && p.page <= MAX_PAGE);
                    proptest::prop_assert!(i64::try_from(p.offset()).is_ok());
                }
                Err(crate::Error::Validation { field, .. }) => proptest::prop_assert!(field == "cursor" || field == "limit"),
                Err(other) => proptest::prop_assert!(false, "{other}"),
            }
        }

        /// Every number from 1 to MAX_PAGE is a cursor; every larger one is refused.
        #[test]
        fn numeric_cursors_are_bounded(n in proptest::prelude::any::<u64>()) {
            let parsed = PageRequest::parse(Some(&n.to_string()), None);
            proptest::prop_assert_eq!(parsed.is_ok(), (1..=MAX_PAGE).contains(&n));
        }
    }
}
