//! The desired version in an environment's file: read it, and write it with toml_edit, the
//! file's formatting and comments kept. Pure: text in, text out.

use toml_edit::{DocumentMut, Item, Table, Value};

/// Why an environment's file cannot take the version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvFileError {
    /// The file is not TOML.
    #[error("{file}:{line}:{column}: not valid TOML: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// Where.
        line: usize,
        /// Where.
        column: usize,
        /// What.
        message: String,
    },
    /// A part of the key is a value where a table is needed, or a table where the version
    /// goes.
    #[error("{file}: `{key}` is {found}, so `{version_key}` cannot be set there")]
    NotATable {
        /// The file.
        file: String,
        /// The part of the key in the way.
        key: String,
        /// What it is.
        found: &'static str,
        /// `[promote] version-key`.
        version_key: String,
    },
}

fn kind(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Value(Value::String(_)) => "a string",
        Item::Value(Value::InlineTable(_)) | Item::Table(_) => "a table",
        Item::Value(Value::Array(_)) | Item::ArrayOfTables(_) => "an array",
        Item::Value(_) => "a value",
    }
}

fn parse(file: &str, text: &str) -> Result<DocumentMut, EnvFileError> {
    text.parse::<DocumentMut>().map_err(|e| {
        let (line, column) = e
            .span()
            .map(|s| shipgate_stdx::text::line_col(text, s.start))
            .unwrap_or((1, 1));
        EnvFileError::Syntax {
            file: file.to_string(),
            line,
            column,
            message: e.message().to_string(),
        }
    })
}

/// The string at dotted `key` in `text`, if there is one.
pub fn get_version(text: &str, key: &str) -> Option<String> {
    let doc = text.parse::<DocumentMut>().ok()?;
    let mut item = doc.as_item();
    for part in key.split('.') {
        item = item.get(part)?;
    }
    item.as_str().map(String::from)
}

/// `text` (the file `file`) with the string at dotted `key` set to `version`: an existing
/// value is replaced in place (its comment kept); missing tables are added.
pub fn set_version(
    file: &str,
    text: &str,
    key: &str,
    version: &str,
) -> Result<String, EnvFileError> {
    let mut doc = parse(file, text)?;
    let parts: Vec<&str> = key.split('.').collect();
    set_in(doc.as_table_mut(), &parts, "", version).map_err(|(at, found)| {
        EnvFileError::NotATable {
            file: file.to_string(),
            key: at,
            found,
            version_key: key.to_string(),
        }
    })?;
    Ok(doc.to_string())
}

/// Sets `parts` (a dotted key, split) below `table`, whose own path is `path`; the error
/// is the path of the item in the way and what it is.
fn set_in(
    table: &mut dyn toml_edit::TableLike,
    parts: &[&str],
    path: &str,
    version: &str,
) -> Result<(), (String, &'static str)> {
    let Some((first, rest)) = parts.split_first() else {
        return Ok(());
    };
    let here = if path.is_empty() {
        first.to_string()
    } else {
        format!("{path}.{first}")
    };
    if rest.is_empty() {
        return match table.get_mut(first) {
            Some(Item::Value(v)) if !v.is_inline_table() && !v.is_array() => {
                let decor = v.decor().clone();
                let mut new = Value::from(version);
                *new.decor_mut() = decor;
                *v = new;
                Ok(())
            }
            Some(item) if !item.is_none() => Err((here, kind(item))),
            _ => {
                table.insert(first, Item::Value(Value::from(version)));
                Ok(())
            }
        };
    }
    if table.get(first).is_none() {
        let mut t = Table::new();
        t.set_implicit(true);
        table.insert(first, Item::Table(t));
    }
    let Some(item) = table.get_mut(first) else {
        return Ok(());
    };
    let found = kind(item);
    match item.as_table_like_mut() {
        Some(t) => set_in(t, rest, &here, version),
        None => Err((here, found)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, key: &str, want: &str) {
        let out = set_version("environments/prod.toml", text, key, "1.4.0").expect("sets");
        assert_eq!(out, want);
        assert_eq!(get_version(&out, key).as_deref(), Some("1.4.0"));
    }

    #[test]
    fn an_existing_value_is_replaced_in_place() {
        check(
            "# prod\n[service]\nname = \"storefront\"\n\n[service.image]\ntag = \"1.3.2\"   # set by shipgate promote\nrepository = \"shop\"\n",
            "service.image.tag",
            "# prod\n[service]\nname = \"storefront\"\n\n[service.image]\ntag = \"1.4.0\"   # set by shipgate promote\nrepository = \"shop\"\n",
        );
        check(
            "version = \"1.0.0\" # keep\nother = 1\n",
            "version",
            "version = \"1.4.0\" # keep\nother = 1\n",
        );
        check(
            "service = { image = { tag = \"1.3.2\" } }\n",
            "service.image.tag",
            "service = { image = { tag = \"1.4.0\" } }\n",
        );
    }

    #[test]
    fn a_key_set_only_in_base_is_added_to_the_environment_s_own_file() {
        check(
            "[service]\nreplicas = 6\n",
            "service.image.tag",
            "[service]\nreplicas = 6\n\n[service.image]\ntag = \"1.4.0\"\n",
        );
        check("", "version", "version = \"1.4.0\"\n");
    }

    #[test]
    fn a_value_in_the_way_is_an_error_naming_it() {
        let err = set_version(
            "environments/prod.toml",
            "[service]\nimage = \"shop:1.3\"\n",
            "service.image.tag",
            "1.4.0",
        )
        .expect_err("image is a string");
        assert_eq!(
            err.to_string(),
            "environments/prod.toml: `service.image` is a string, so `service.image.tag` cannot be set there"
        );
        let err = set_version(
            "environments/prod.toml",
            "[service.image.tag]\nx = 1\n",
            "service.image.tag",
            "1.4.0",
        )
        .expect_err("tag is a table");
        assert!(
            err.to_string().contains("`service.image.tag` is a table"),
            "{err}"
        );
        let err = set_version("environments/prod.toml", "a = \n", "version", "1.4.0")
            .expect_err("syntax");
        assert!(
            err.to_string().starts_with("environments/prod.toml:1:"),
            "{err}"
        );
    }
}
