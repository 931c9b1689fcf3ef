//! Property tests of Merkle proofs over random trees of 1..300 leaves: honest proofs verify, and
//! a flipped proof bit, another index, another size or another root is rejected, except where
//! RFC 6962 itself cannot tell: a proof does not bind the tree size when the other size has the
//! very same proof shape. That case is pinned down exactly against the RFC's PATH and SUBPROOF
//! definitions (and is why bundles recompute roots from the records and trust signed sizes).

use aimm_ledger::merkle::{leaf_hash, verify_consistency, verify_inclusion, Hash, MerkleTree};
use proptest::prelude::*;

/// Where each proof hash sits, per the RFC 6962 recursions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Left,
    Right,
    /// A consistency proof's first hash when the old tree is not a complete subtree.
    Start,
}

fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// Shape of PATH(m, D[n]) (RFC 6962 §2.1.1).
fn path_shape(m: u64, n: u64) -> Vec<Side> {
    if n == 1 {
        return vec![];
    }
    let k = split(n);
    let (mut v, side) = if m < k {
        (path_shape(m, k), Side::Right)
    } else {
        (path_shape(m - k, n - k), Side::Left)
    };
    v.push(side);
    v
}

/// Shape of SUBPROOF(m, D[n], b) (RFC 6962 §2.1.2).
fn subproof_shape(m: u64, n: u64, b: bool) -> Vec<Side> {
    if m == n {
        return if b { vec![] } else { vec![Side::Start] };
    }
    let k = split(n);
    let (mut v, side) = if m <= k {
        (subproof_shape(m, k, b), Side::Right)
    } else {
        (subproof_shape(m - k, n - k, false), Side::Left)
    };
    v.push(side);
    v
}

fn tree(n: u64, seed: u64) -> MerkleTree {
    MerkleTree::from_leaf_hashes(
        (0..n).map(|i| leaf_hash(&[seed.to_le_bytes(), i.to_le_bytes()].concat())),
    )
}

fn flip(proof: &[Hash], which: usize, bit: usize) -> Vec<Hash> {
    let mut p = proof.to_vec();
    p[which][bit / 8] ^= 1 << (bit % 8);
    p
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn inclusion_proofs_verify_and_alterations_are_rejected(
        n in 1u64..300,
        seed: u64,
        index: prop::sample::Index,
        other: prop::sample::Index,
        which: prop::sample::Index,
        bit in 0usize..256,
        other_size in 1u64..300,
    ) {
        let t = tree(n, seed);
        let i = index.index(n as usize) as u64;
        let leaf = t.leaf(i).unwrap();
        let root = t.root();
        let proof = t.inclusion_proof(i, n).unwrap();
        prop_assert!(verify_inclusion(&leaf, i, n, &proof, &root).is_ok());

        if !proof.is_empty() {
            let bad = flip(&proof, which.index(proof.len()), bit);
            prop_assert!(verify_inclusion(&leaf, i, n, &bad, &root).is_err());
        }
        let j = other.index(n as usize + 1) as u64;
        if j != i {
            prop_assert!(verify_inclusion(&leaf, j, n, &proof, &root).is_err(), "index {j}");
        }
        let mut bad_root = root;
        bad_root[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(verify_inclusion(&leaf, i, n, &proof, &bad_root).is_err());
        let mut bad_leaf = leaf;
        bad_leaf[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(verify_inclusion(&bad_leaf, i, n, &proof, &root).is_err());

        if other_size != n {
            let accepted = verify_inclusion(&leaf, i, other_size, &proof, &root).is_ok();
            let same_shape = i < other_size && path_shape(i, other_size) == path_shape(i, n);
            prop_assert_eq!(accepted, same_shape, "size {} -> {}", n, other_size);
        }
    }

    #[test]
    fn consistency_proofs_verify_and_alterations_are_rejected(
        n in 1u64..300,
        seed: u64,
        first: prop::sample::Index,
        which: prop::sample::Index,
        bit in 0usize..256,
        other_first: prop::sample::Index,
        other_second in 1u64..300,
    ) {
        let t = tree(n, seed);
        let m = first.index(n as usize) as u64 + 1;
        let (r1, r2) = (t.root_at(m).unwrap(), t.root());
        let proof = t.consistency_proof(m, n).unwrap();
        prop_assert_eq!(proof.is_empty(), m == n);
        prop_assert!(verify_consistency(m, n, &proof, &r1, &r2).is_ok());

        if !proof.is_empty() {
            let bad = flip(&proof, which.index(proof.len()), bit);
            prop_assert!(verify_consistency(m, n, &bad, &r1, &r2).is_err());
        }
        for (a, b) in [(true, false), (false, true)] {
            let (mut x, mut y) = (r1, r2);
            if a { x[bit / 8] ^= 1 << (bit % 8); }
            if b { y[bit / 8] ^= 1 << (bit % 8); }
            prop_assert!(verify_consistency(m, n, &proof, &x, &y).is_err());
        }
        let shape = subproof_shape(m, n, true);
        let m2 = other_first.index(n as usize + 1) as u64;
        if m2 != m {
            let accepted = verify_consistency(m2, n, &proof, &r1, &r2).is_ok();
            let same = m2 >= 1 && subproof_shape(m2, n, true) == shape;
            prop_assert_eq!(accepted, same, "first size {} -> {}", m, m2);
        }
        if other_second != n {
            let accepted = verify_consistency(m, other_second, &proof, &r1, &r2).is_ok();
            let same = m <= other_second && subproof_shape(m, other_second, true) == shape;
            prop_assert_eq!(accepted, same, "second size {} -> {}", n, other_second);
        }
    }
}

#[test]
fn a_proof_does_not_bind_the_size_when_the_shape_is_the_same() {
    // Leaf 0's path in a 5-leaf tree is [leaf 1, node 2..4, leaf 4] and in a 6-leaf tree
    // [leaf 1, node 2..4, node 4..6]: same shape, so the 5-leaf proof also "verifies" as a
    // 6-leaf claim. RFC 9162 verification cannot see this; the signed size must be trusted.
    let t = tree(5, 1);
    let proof = t.inclusion_proof(0, 5).unwrap();
    assert!(verify_inclusion(&t.leaf(0).unwrap(), 0, 6, &proof, &t.root()).is_ok());
    assert!(verify_inclusion(&t.leaf(0).unwrap(), 0, 9, &proof, &t.root()).is_err());
    assert_eq!(path_shape(0, 5), path_shape(0, 6));
    assert_ne!(path_shape(0, 5), path_shape(0, 9));
    // Likewise the consistency proof 4 -> 5 ([leaf 4]) reads as 4 -> 6 ([node 4..6]).
    let proof = t.consistency_proof(4, 5).unwrap();
    let (r4, r5) = (t.root_at(4).unwrap(), t.root());
    assert!(verify_consistency(4, 6, &proof, &r4, &r5).is_ok());
    assert!(verify_consistency(4, 9, &proof, &r4, &r5).is_err());
    assert_eq!(subproof_shape(4, 5, true), subproof_shape(4, 6, true));
}
