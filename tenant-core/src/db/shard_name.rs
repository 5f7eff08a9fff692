//! The names Citus gives a constraint's copy on each shard, so that an error raised on a shard
//! (`duplicate key value violates unique constraint "customers_email_key_102008"`) is matched to
//! the constraint the framework named (issue 16).
//!
//! Citus appends `_<shard id>` to the name; a name too long for that (PostgreSQL's identifiers
//! hold 63 bytes) is clipped and given a hash of the whole name first:
//! `<clipped>_<8 hex digits>_<shard id>` (Citus's `AppendShardIdToName`, relay_event_utility.c).
//! The hash is PostgreSQL's `hash_bytes` (src/common/hashfn.c, Bob Jenkins' lookup3), ported
//! below.

/// PostgreSQL's identifiers hold `NAMEDATALEN - 1` bytes.
const NAMEDATALEN: usize = 64;

/// The name of `name`'s copy on shard `shard_id`, as Citus makes it.
pub(crate) fn shard_name(name: &str, shard_id: u64) -> String {
    let suffix = format!("_{shard_id}");
    if name.len() < NAMEDATALEN - suffix.len() {
        return format!("{name}{suffix}");
    }
    // `pg_mbcliplen`: at most this many bytes, cut at a character boundary.
    let mut clip = (NAMEDATALEN - suffix.len() - 10).min(name.len());
    while !name.is_char_boundary(clip) {
        clip -= 1;
    }
    format!("{}_{:08x}{suffix}", &name[..clip], hash_bytes(name.as_bytes()))
}

/// Whether `found` (a constraint's name in an error) is `name` itself or its copy on a shard.
pub(crate) fn is_name_or_shard_of(found: &str, name: &str) -> bool {
    if found == name {
        return true;
    }
    let Some((_, id)) = found.rsplit_once('_') else { return false };
    match id.parse::<u64>() {
        Ok(shard_id) if !id.starts_with('0') => shard_name(name, shard_id) == found,
        _ => false,
    }
}

/// PostgreSQL's `hash_bytes` (`hash_any`) on a little-endian machine, which is what Citus hashes
/// long names with. Bob Jenkins' lookup3 `hashlittle`, as PostgreSQL adapted it: the length is in
/// the initial value, and the last block's third word keeps its low byte free.
fn hash_bytes(k: &[u8]) -> u32 {
    fn mix(a: &mut u32, b: &mut u32, c: &mut u32) {
        *a = a.wrapping_sub(*c);
        *a ^= c.rotate_left(4);
        *c = c.wrapping_add(*b);
        *b = b.wrapping_sub(*a);
        *b ^= a.rotate_left(6);
        *a = a.wrapping_add(*c);
        *c = c.wrapping_sub(*b);
        *c ^= b.rotate_left(8);
        *b = b.wrapping_add(*a);
        *a = a.wrapping_sub(*c);
        *a ^= c.rotate_left(16);
        *c = c.wrapping_add(*b);
        *b = b.wrapping_sub(*a);
        *b ^= a.rotate_left(19);
        *a = a.wrapping_add(*c);
        *c = c.wrapping_sub(*b);
        *c ^= b.rotate_left(4);
        *b = b.wrapping_add(*a);
    }
    fn finish(a: &mut u32, b: &mut u32, c: &mut u32) {
        *c ^= *b;
        *c = c.wrapping_sub(b.rotate_left(14));
        *a ^= *c;
        *a = a.wrapping_sub(c.rotate_left(11));
        *b ^= *a;
        *b = b.wrapping_sub(a.rotate_left(25));
        *c ^= *b;
        *c = c.wrapping_sub(b.rotate_left(16));
        *a ^= *c;
        *a = a.wrapping_sub(c.rotate_left(4));
        *b ^= *a;
        *b = b.wrapping_sub(a.rotate_left(14));
        *c ^= *b;
        *c = c.wrapping_sub(b.rotate_left(24));
    }
    let word = |s: &[u8]| u32::from_le_bytes([s[0], s[1], s[2], s[3]]);
    let init = 0x9e37_79b9_u32.wrapping_add(k.len() as u32).wrapping_add(3_923_095);
    let (mut a, mut b, mut c) = (init, init, init);
    let mut rest = k;
    while rest.len() >= 12 {
        a = a.wrapping_add(word(&rest[0..4]));
        b = b.wrapping_add(word(&rest[4..8]));
        c = c.wrapping_add(word(&rest[8..12]));
        mix(&mut a, &mut b, &mut c);
        rest = &rest[12..];
    }
    // The tail: bytes 0-3 into a, 4-7 into b (low byte first), 8-10 into c from its second byte.
    for (i, &byte) in rest.iter().enumerate() {
        let byte = u32::from(byte);
        match i {
            0..=3 => a = a.wrapping_add(byte << (8 * i)),
            4..=7 => b = b.wrapping_add(byte << (8 * (i - 4))),
            _ => c = c.wrapping_add(byte << (8 * (i - 7))),
        }
    }
    finish(&mut a, &mut b, &mut c);
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names recorded on a Citus 13.0.5 cluster (issue 16): a short one gets the shard's id; a
    /// 63-byte one (the framework's name, truncated by PostgreSQL) is clipped and hashed.
    #[test]
    fn shard_names_are_citus_own() {
        assert_eq!(shard_name("customers_email_key", 102022), "customers_email_key_102022");
        let long = "li_warehouse_inventory_reconciliation_batches_external_referenc";
        assert_eq!(long.len(), 63);
        assert_eq!(shard_name(long, 102026), "li_warehouse_inventory_reconciliation_batches_e_67576f60_102026");
        // 56 bytes + `_102118` fits in 63: appended, not hashed.
        let fits = "li_warehouse_inventory_reconciliation_batches_e_67576f60";
        assert_eq!(shard_name(fits, 102118), "li_warehouse_inventory_reconciliation_batches_e_67576f60_102118");
    }

    #[test]
    fn a_name_matches_itself_and_its_shards_only() {
        assert!(is_name_or_shard_of("users_email_key", "users_email_key"));
        assert!(is_name_or_shard_of("users_email_key_102009", "users_email_key"));
        assert!(!is_name_or_shard_of("users_email_key_old", "users_email_key"));
        assert!(!is_name_or_shard_of("users_email_key_", "users_email_key"));
        assert!(!is_name_or_shard_of("users_email_key_007", "users_email_key"));
        assert!(!is_name_or_shard_of("users_email_key_2_102009", "users_email_key"));
        let long = "li_warehouse_inventory_reconciliation_batches_external_referenc";
        assert!(is_name_or_shard_of("li_warehouse_inventory_reconciliation_batches_e_67576f60_102031", long));
        assert!(!is_name_or_shard_of("li_warehouse_inventory_reconciliation_batches_e_67576f61_102031", long));
        // Another long name with the same first 46 bytes hashes differently.
        let other = "li_warehouse_inventory_reconciliation_batches_external_number_k";
        assert!(!is_name_or_shard_of("li_warehouse_inventory_reconciliation_batches_e_67576f60_102031", other));
    }

    /// PostgreSQL's own values (`hashtext` is `hash_bytes` of the text), recorded on
    /// PostgreSQL 15 for every prefix of the alphabet: each tail length takes its own path.
    #[test]
    fn hashes_are_postgresqls() {
        let recorded = "a7ea466d,401370b1,666effbd,d12feb97,e885082c,e56fc644,97d7dfc0,1de65ece,8b1e9c33,\
                        fa822f5f,741ce98c,a78ef3d3,a1763ad4,1830c6d0,12c9ce35,ad313697,840989db,623c3a42,\
                        c73d18dc,d7311067,2dad54f1,7e9e4b92,fcfbc4be,bb7de978,4a99b38f,3a6bea6d,0a00e7bb";
        let alphabet = b"abcdefghijklmnopqrstuvwxyz";
        for (n, hex) in recorded.split(',').enumerate() {
            assert_eq!(format!("{:08x}", hash_bytes(&alphabet[..n])), hex, "first {n} letters");
        }
        assert_eq!(hash_bytes(b"li_warehouse_inventory_reconciliation_batches_external_referenc"), 0x6757_6f60);
    }
}
