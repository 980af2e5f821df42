//! A union-find forest over indices: how the wording grouping, the vector grouping and their
//! merge join questions into groups (docs/gaps.md).

use std::collections::HashMap;

/// The root of `i` in a union-find forest (`parent[i] == i` at a root), halving paths.
pub fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Joins the sets of `a` and `b`; the smaller index becomes the root.
pub fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        parent[ra.max(rb)] = ra.min(rb);
    }
}

/// Any labels renumbered 0.. in order of first appearance.
pub fn number(labels: &[usize]) -> Vec<usize> {
    let mut ids: HashMap<usize, usize> = HashMap::new();
    labels
        .iter()
        .map(|l| {
            let next = ids.len();
            *ids.entry(*l).or_insert(next)
        })
        .collect()
}
