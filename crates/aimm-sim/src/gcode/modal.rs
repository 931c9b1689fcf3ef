//! The G codes the interpreter knows and their modal groups (Fanuc grouping: canned cycles are
//! their own group, so `G80 G0` in one block is fine).

/// A G code as ten times its number (`G33.1` → 331), so decimal codes compare exactly.
pub(crate) type GCode = u32;

/// `value` as a [`GCode`], if it has at most one decimal.
pub(crate) fn g_code(value: f64) -> Option<GCode> {
    let tenths = (value * 10.0).round();
    ((value * 10.0 - tenths).abs() < 1e-6 && (0.0..10_000.0).contains(&tenths))
        .then_some(tenths as GCode)
}

/// Modal group of a known G code; `None` for unknown codes.
pub(crate) fn group_of(g: GCode) -> Option<u8> {
    Some(match g {
        0 | 10 | 20 | 30 | 331 => 1,
        170 | 180 | 190 => 2,
        900 | 910 => 3,
        901 | 911 => 4,
        930 | 940 | 950 => 5,
        200 | 210 => 6,
        400 | 410 | 420 => 7,
        430 | 490 => 8,
        540 | 550 | 560 | 570 | 580 | 590 => 9,
        610 | 611 | 640 => 10,
        730 | 800 | 810 | 820 | 830 | 840 | 850 | 860 | 890 => 11,
        980 | 990 => 12,
        40 | 100 | 280 | 300 | 520 | 920 | 921 => 13,
        530 => 14,
        150 | 160 => 15,
        680 | 690 => 16,
        _ => return None,
    })
}

/// `G33.1` style text for messages.
pub(crate) fn name(g: GCode) -> String {
    if g.is_multiple_of(10) {
        format!("G{}", g / 10)
    } else {
        format!("G{}.{}", g / 10, g % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_groups() {
        assert_eq!(g_code(33.1), Some(331));
        assert_eq!(g_code(1.0), Some(10));
        assert_eq!(g_code(1.25), None);
        assert_eq!(group_of(10), group_of(20));
        assert_ne!(group_of(800), group_of(0));
        assert_eq!(group_of(123), None);
        assert_eq!(name(331), "G33.1");
        assert_eq!(name(540), "G54");
    }
}
