/**
 * The stylesheet docling's HTML export puts in every page head (single-column
 * layout). Kept verbatim so exported pages are byte-identical to docling's.
 *
 * @module
 */

/** docling's default `<style>` block for single-column HTML. */
export const DOCLING_HTML_STYLE: string = `<style>
    html {
        background-color: #f5f5f5;
        font-family: Arial, sans-serif;
        line-height: 1.6;
    }
    body {
        max-width: 800px;
        margin: 0 auto;
        padding: 2rem;
        background-color: white;
        box-shadow: 0 0 10px rgba(0,0,0,0.1);
    }
    h1, h2, h3, h4, h5, h6 {
        color: #333;
        margin-top: 1.5em;
        margin-bottom: 0.5em;
    }
    h1 {
        font-size: 2em;
        border-bottom: 1px solid #eee;
        padding-bottom: 0.3em;
    }
    table {
        border-collapse: collapse;
        margin: 1em 0;
        width: 100%;
    }
    th, td {
        border: 1px solid #ddd;
        padding: 8px;
        text-align: left;
    }
    th {
        background-color: #f2f2f2;
        font-weight: bold;
    }
    figure {
        margin: 1.5em 0;
        text-align: center;
    }
    figcaption {
        color: #666;
        font-style: italic;
        margin-top: 0.5em;
    }
    img {
        max-width: 100%;
        height: auto;
    }
    pre {
        background-color: #f6f8fa;
        border-radius: 3px;
        padding: 1em;
        overflow: auto;
    }
    code {
        font-family: monospace;
        background-color: #f6f8fa;
        padding: 0.2em 0.4em;
        border-radius: 3px;
    }
    pre code {
        background-color: transparent;
        padding: 0;
    }
    .formula {
        text-align: center;
        padding: 0.5em;
        margin: 1em 0;
        background-color: #f9f9f9;
    }
    .formula-not-decoded {
        text-align: center;
        padding: 0.5em;
        margin: 1em 0;
        background: repeating-linear-gradient(
            45deg,
            #f0f0f0,
            #f0f0f0 10px,
            #f9f9f9 10px,
            #f9f9f9 20px
        );
    }
    .page-break {
        page-break-after: always;
        border-top: 1px dashed #ccc;
        margin: 2em 0;
    }
    .key-value-region {
        background-color: #f9f9f9;
        padding: 1em;
        border-radius: 4px;
        margin: 1em 0;
    }
    .key-value-region dt {
        font-weight: bold;
    }
    .key-value-region dd {
        margin-left: 1em;
        margin-bottom: 0.5em;
    }
    .form-container {
        border: 1px solid #ddd;
        padding: 1em;
        border-radius: 4px;
        margin: 1em 0;
    }
    .form-item {
        margin-bottom: 0.5em;
    }
    .image-classification {
        font-size: 0.9em;
        color: #666;
        margin-top: 0.5em;
    }
    details.docling-meta {
        margin: 0.5em 0;
        font-size: 0.9em;
        text-align: left;
    }
    figure details.docling-meta {
        text-align: left;
    }
    details.docling-meta > summary {
        cursor: pointer;
        color: #555;
        font-style: italic;
        padding: 2px 6px;
    }
    .docling-meta-field {
        background-color: #f0f0f0;
        border-left: 3px solid #ccc;
        padding: 6px 10px;
        margin: 4px 0 4px 1em;
        border-radius: 3px;
        text-align: left;
    }
    .docling-meta-field-label {
        font-weight: bold;
        color: #444;
    }
    pre.docling-meta-code {
        background-color: #1e1e1e;
        color: #d4d4d4;
        border-radius: 4px;
        padding: 10px 12px;
        margin: 6px 0;
        overflow-x: auto;
        font-family: "SFMono-Regular", Consolas, "Liberation Mono", Menlo, monospace;
        font-size: 0.85em;
        line-height: 1.45;
        white-space: pre;
        tab-size: 4;
    }
    pre.docling-meta-code code {
        background: transparent;
        border: none;
        padding: 0;
        color: inherit;
        font-family: inherit;
        font-size: inherit;
        display: block;
        white-space: pre;
    }
</style>`;
