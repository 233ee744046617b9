"""CORE: next-edit suggestions: from the user's recent edits, predict the edit they will make next
anywhere in a window around the cursor (pure core: no pygls, no lsprotocol).

- :mod:`.history`: the recent edits per document, from didChange, bounded;
- :mod:`.window`: the editable window around the cursor;
- :mod:`.prompt`: the messages, stable part first;
- :mod:`.rewrite`: reading the model's rewrite (fence, "no change", early stop);
- :mod:`.suggestion`: the smallest edit and the guards;
- :mod:`.engine`: one request from params to suggestion (supersede, debounce, version).
"""
