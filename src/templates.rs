//! The Tera instance: every template under `templates/` embedded in the binary, plus the few functions
//! templates may call (`t` for translations, `asset` for hashed static URLs). Used for pages and mail.

use std::sync::Arc;

use tera::{Kwargs, State, Tera, TeraResult};

use crate::assets::Assets;
use crate::i18n::{self, Lang};

#[derive(rust_embed::RustEmbed)]
#[folder = "templates/"]
struct TemplateFiles;

/// The compiled templates.
#[derive(Clone)]
pub struct Templates(Arc<Tera>);

impl Templates {
    /// Compiles every embedded template and registers the template functions.
    pub fn load(assets: &Assets) -> anyhow::Result<Self> {
        let mut tera = Tera::new();
        let mut sources = Vec::new();
        for name in TemplateFiles::iter() {
            if let Some(file) = TemplateFiles::get(&name) {
                let text = String::from_utf8(file.data.into_owned())
                    .map_err(|e| anyhow::anyhow!("template {name} is not UTF-8: {e}"))?;
                sources.push((name.to_string(), text));
            }
        }
        register_functions(&mut tera, assets.clone());
        tera.add_raw_templates(sources)
            .map_err(|e| anyhow::anyhow!("compiling templates: {e}"))?;
        Ok(Self(Arc::new(tera)))
    }

    /// Renders a template; the context must contain `lang`.
    pub fn render(&self, name: &str, context: &tera::Context) -> anyhow::Result<String> {
        self.0
            .render(name, context)
            .map_err(|e| anyhow::anyhow!("rendering {name}: {e:?}"))
    }
}

/// The one place template functions are registered.
fn register_functions(tera: &mut Tera, assets: Assets) {
    // t(key="...", name=value...): the translation for the page's `lang`, placeholders filled.
    tera.register_function(
        "t",
        |kwargs: Kwargs, state: &State<'_>| -> TeraResult<String> {
            let key: String = kwargs.must_get("key")?;
            let lang = state
                .get::<String>("lang")?
                .and_then(|code| Lang::parse(&code))
                .unwrap_or_default();
            let text = i18n::lookup(lang, &key)
                .ok_or_else(|| tera::Error::message(format!("no translation for key {key:?}")))?;
            let args: Vec<(String, String)> = kwargs
                .iter()
                .filter(|(k, _)| k.to_string() != "key")
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let refs: Vec<(&str, &str)> =
                args.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            Ok(i18n::fill(text, &refs))
        },
    );
    // asset(path="css/site.css"): the content-hashed URL of an embedded static file.
    tera.register_function(
        "asset",
        move |kwargs: Kwargs, _: &State<'_>| -> TeraResult<String> {
            let path: String = kwargs.must_get("path")?;
            assets
                .url(&path)
                .ok_or_else(|| tera::Error::message(format!("no static file {path:?}")))
        },
    );
}
