// The SQL editor of the Triscope console: CodeMirror 6 with the SQL
// language (DuckDB-ish keywords, PostgreSQL dialect) and completion of the
// relations and columns the user may read. Built once into
// sql/console/assets/codemirror.js (see sql/console/assets/README.md).
import {EditorView, basicSetup} from "codemirror";
import {keymap} from "@codemirror/view";
import {sql, PostgreSQL} from "@codemirror/lang-sql";
import {Prec} from "@codemirror/state";

window.TriscopeEditor = function (parent, doc, schema, onRun) {
  const view = new EditorView({
    doc: doc || "",
    parent,
    extensions: [
      basicSetup,
      sql({dialect: PostgreSQL, schema: schema || {}, upperCaseKeywords: true}),
      Prec.highest(keymap.of([{key: "Mod-Enter", run: () => { onRun(); return true; }}])),
      EditorView.lineWrapping,
    ],
  });
  return {
    get: () => view.state.doc.toString(),
    set: (text) => view.dispatch({changes: {from: 0, to: view.state.doc.length, insert: text}}),
    focus: () => view.focus(),
    view,
  };
};
