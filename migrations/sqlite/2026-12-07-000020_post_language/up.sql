-- The language a post revision is written in (WCAG 3.1.2, language of parts: a post in the other
-- language than the page is marked up with `lang`). New revisions get it from the editor's choice
-- or from the text (`i18n::Lang::of_text`); revisions written before are given the same rule here:
-- Japanese if the title or body has any kana or kanji, English if it has Latin letters and none,
-- Japanese (the site's first language) if it has neither.
ALTER TABLE post_revisions ADD COLUMN lang TEXT NOT NULL DEFAULT 'ja';
UPDATE post_revisions SET lang = 'en'
WHERE (title || ' ' || body_md) GLOB '*[A-Za-z]*'
  AND NOT (title || ' ' || body_md) GLOB '*[ぁ-ヿ㐀-䶿一-鿿ｦ-ﾟ]*';
