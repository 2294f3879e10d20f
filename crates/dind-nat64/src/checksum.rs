//! The Internet checksum (RFC 1071) and its incremental update (RFC 1624).

/// One's complement sum of 16-bit big-endian words, unfolded; an odd last byte is padded.
pub(crate) fn sum(data: &[u8]) -> u32 {
    let mut total = 0u32;
    let mut words = data.chunks_exact(2);
    for word in &mut words {
        total = total.wrapping_add(u32::from(u16::from_be_bytes([word[0], word[1]])));
    }
    if let [last] = words.remainder() {
        total = total.wrapping_add(u32::from(*last) << 8);
    }
    // Keep room for more additions: fold once a sum grows past 2^31.
    fold(total) as u32
}

pub(crate) fn fold(mut total: u32) -> u16 {
    while total > 0xffff {
        total = (total & 0xffff) + (total >> 16);
    }
    total as u16
}

/// The checksum to store for a message whose words sum to `total`.
pub(crate) fn finish(total: u32) -> u16 {
    !fold(total)
}

/// The checksum field after words summing to `old` were replaced by words summing to
/// `new`. A complete checksum holds the complement of the sum; a partial one (the kernel's
/// CHECKSUM_PARTIAL: the hardware completes it) holds the pseudo-header sum itself.
pub(crate) fn adjust(field: u16, old: u32, new: u32, partial: bool) -> u16 {
    let (old, new) = (fold(old), fold(new));
    if partial {
        fold(u32::from(field) + u32::from(!old) + u32::from(new))
    } else {
        !fold(u32::from(!field) + u32::from(!old) + u32::from(new))
    }
}

/// The pseudo-header sum of IPv4 (RFC 793) or IPv6 (RFC 8200 section 8.1) without its
/// addresses' family: addresses, upper-layer length and protocol.
pub(crate) fn pseudo(addresses: &[&[u8]], protocol: u8, length: usize) -> u32 {
    let mut total = u32::from(protocol) + fold(length as u32) as u32 + (length as u32 >> 16);
    for address in addresses {
        total += sum(address);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_1071_example_sums_to_ddf2() {
        // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
        let words = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum(&words)), 0xddf2);
        assert_eq!(finish(sum(&words)), !0xddf2);
    }

    #[test]
    fn an_odd_length_is_padded_with_a_zero_byte() {
        assert_eq!(fold(sum(&[0x12, 0x34, 0x56])), 0x1234 + 0x5600);
    }

    #[test]
    fn an_adjusted_checksum_equals_the_one_computed_anew() {
        let payload = [0x12u8, 0x34, 0xab, 0xcd, 0x00, 0x01, 0xff];
        let a = [10u8, 0, 0, 1, 10, 0, 0, 2];
        let b = [0xfdu8, 0, 0, 0x10, 1, 2, 3, 4, 0xfe, 0x80, 0, 0, 0, 0, 0, 9];
        let full = |addr: &[u8]| finish(sum(addr) + sum(&payload));
        assert_eq!(adjust(full(&a), sum(&a), sum(&b), false), full(&b));
        let partial = |addr: &[u8]| fold(sum(addr) + 7);
        assert_eq!(adjust(partial(&a), sum(&a), sum(&b), true), partial(&b));
    }

    #[test]
    fn the_pseudo_header_counts_length_and_protocol() {
        let src = [192u8, 0, 2, 1];
        let dst = [198u8, 51, 100, 2];
        let by_hand = sum(&[192, 0, 2, 1, 198, 51, 100, 2, 0, 17, 0, 12]);
        assert_eq!(fold(pseudo(&[&src, &dst], 17, 12)), fold(by_hand));
    }
}
