//! Integers as JSON Schema defines them: any JSON number with no fractional part, so `3.0`
//! reads as `3` (serde alone refuses it). The schema documents these fields as `integer`,
//! and a client that writes every number as a float is still speaking the contract.

use serde::{Deserialize, Deserializer, de::Error};

fn whole<E: Error>(n: serde_json::Number) -> Result<i64, E> {
    if let Some(i) = n.as_i64() {
        return Ok(i);
    }
    match n.as_f64() {
        // Within ±2^53 every whole float is exact, and far beyond any bound we accept.
        Some(f) if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 => Ok(f as i64),
        _ => Err(E::custom(format!("expected an integer, found {n}"))),
    }
}

/// For `#[serde(deserialize_with = "crate::integer::i64")]`.
pub fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    whole(serde_json::Number::deserialize(d)?)
}

/// For `#[serde(default, deserialize_with = "crate::integer::option_i64")]`.
pub fn option_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Option::<serde_json::Number>::deserialize(d)?
        .map(whole)
        .transpose()
}

/// For `#[serde(default, deserialize_with = "crate::integer::option_u32")]`.
pub fn option_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    option_i64(d)?
        .map(|n| u32::try_from(n).map_err(|_| D::Error::custom(format!("{n} is out of range"))))
        .transpose()
}

/// For `#[serde(deserialize_with = "crate::integer::u64")]`: a whole number ≥ 0.
pub fn u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let n = whole(serde_json::Number::deserialize(d)?)?;
    u64::try_from(n).map_err(|_| D::Error::custom(format!("{n} is out of range")))
}

/// For `#[serde(default, deserialize_with = "crate::integer::map_i64")]`: a map of integers.
pub fn map_i64<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<std::collections::HashMap<String, i64>, D::Error> {
    std::collections::HashMap::<String, serde_json::Number>::deserialize(d)?
        .into_iter()
        .map(|(k, n)| whole(n).map(|n| (k, n)))
        .collect()
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    struct T {
        #[serde(deserialize_with = "super::i64")]
        n: i64,
        #[serde(default, deserialize_with = "super::option_i64")]
        o: Option<i64>,
    }

    fn read(json: &str) -> Result<(i64, Option<i64>), String> {
        serde_json::from_str::<T>(json)
            .map(|t| (t.n, t.o))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn whole_numbers_in_any_spelling_and_nothing_else() {
        assert_eq!(read(r#"{"n": 3}"#), Ok((3, None)));
        assert_eq!(read(r#"{"n": 3.0, "o": -2.0}"#), Ok((3, Some(-2))));
        assert_eq!(read(r#"{"n": 1e3, "o": null}"#), Ok((1000, None)));
        assert!(read(r#"{"n": 3.5}"#).is_err());
        assert!(read(r#"{"n": 1e300}"#).is_err());
        assert!(read(r#"{"n": "3"}"#).is_err());
    }
}
