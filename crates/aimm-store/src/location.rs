//! Store locations: telling a PostgreSQL URL from a SQLite path, and showing a URL without its
//! password. Available whether or not this build has the PostgreSQL backend.

/// Whether `location` names a PostgreSQL server (a `postgres://` or `postgresql://` URL).
pub fn is_postgres_url(location: &str) -> bool {
    let lower = location.get(..13).unwrap_or(location).to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// `url` with its password (in the user-info part or a `password=` parameter) replaced by `***`.
/// Hand-written rather than with the `url` crate: PostgreSQL URLs may list several `host:port`
/// pairs, which are not valid URL authorities.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{hosts}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => p.to_string(),
                })
                .collect();
            format!("{path}?{}", params.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{}{authority}{tail}", &url[..scheme_end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_recognised_and_redacted() {
        assert!(is_postgres_url("postgres://h/db"));
        assert!(is_postgres_url("PostgreSQL://h/db"));
        assert!(!is_postgres_url("aimm.db"));
        assert!(!is_postgres_url("/tmp/postgres://x"));
        for (url, redacted) in [
            (
                "postgres://aimm:s3cr%40t@db.plant:5432/aimm",
                "postgres://aimm:***@db.plant:5432/aimm",
            ),
            (
                "postgresql://u:p@h1:1,h2:2/d?password=x&sslmode=disable",
                "postgresql://u:***@h1:1,h2:2/d?password=***&sslmode=disable",
            ),
            ("postgres://aimm@127.0.0.1/d", "postgres://aimm@127.0.0.1/d"),
            ("postgres://h?PASSWORD=x", "postgres://h?PASSWORD=***"),
        ] {
            assert_eq!(redact_url(url), redacted);
        }
    }
}
