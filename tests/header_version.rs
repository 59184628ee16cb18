//! The C header's version macros agree with Cargo.toml, the one place the
//! version is written by hand.

use std::path::Path;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The `version = "..."` of Cargo.toml's `[package]` table.
fn cargo_toml_version() -> String {
    let manifest = read("Cargo.toml");
    let package = manifest
        .split("\n[")
        .find(|table| table.trim_start_matches('[').starts_with("package]"))
        .expect("Cargo.toml has a [package] table");
    package
        .lines()
        .find_map(|line| {
            let value = line
                .strip_prefix("version")?
                .trim_start()
                .strip_prefix('=')?;
            Some(value.trim().trim_matches('"').to_string())
        })
        .expect("[package] has a version")
}

/// The value of `#define NAME <number>` in the header.
fn macro_value(header: &str, name: &str) -> u32 {
    header
        .lines()
        .find_map(|line| {
            let rest = line.strip_prefix("#define ")?.strip_prefix(name)?;
            rest.trim().parse().ok()
        })
        .unwrap_or_else(|| panic!("include/isola.h defines no numeric {name}"))
}

#[test]
fn header_version_macros_match_cargo_toml() {
    let header = read("include/isola.h");
    let from_header = format!(
        "{}.{}.{}",
        macro_value(&header, "ISOLA_VERSION_MAJOR"),
        macro_value(&header, "ISOLA_VERSION_MINOR"),
        macro_value(&header, "ISOLA_VERSION_PATCH"),
    );
    let from_manifest = cargo_toml_version();
    assert_eq!(from_header, from_manifest, "include/isola.h vs Cargo.toml");
    assert_eq!(from_manifest, env!("CARGO_PKG_VERSION"));
}

#[test]
fn callback_tables_start_with_their_struct_size() {
    let header = read("include/isola.h");
    for table in ["isola_sink_t", "isola_host_t"] {
        let end = header
            .find(&format!("}} {table};"))
            .unwrap_or_else(|| panic!("include/isola.h declares no {table}"));
        let start = header[..end]
            .rfind("typedef struct {")
            .expect("a typedef struct before it");
        let first_field = header[start..end]
            .lines()
            .map(str::trim)
            .find(|line| {
                !line.is_empty()
                    && !line.starts_with('/')
                    && !line.starts_with('*')
                    && !line.starts_with("typedef")
            })
            .expect("a field");
        assert_eq!(first_field, "size_t struct_size;", "{table}");
    }
}
