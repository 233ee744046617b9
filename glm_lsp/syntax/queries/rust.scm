; Definitions.
(function_item name: (identifier) @name body: (block) @body) @definition.function
(function_signature_item name: (identifier) @name) @definition.function
(struct_item name: (type_identifier) @name) @definition.type
(enum_item name: (type_identifier) @name) @definition.type
(union_item name: (type_identifier) @name) @definition.type
(type_item name: (type_identifier) @name) @definition.type
(trait_item name: (type_identifier) @name body: (declaration_list) @body) @definition.class
(const_item name: (identifier) @name) @definition.value
(static_item name: (identifier) @name) @definition.value
(macro_definition name: (identifier) @name) @definition.value
(mod_item name: (identifier) @name body: (declaration_list) @body) @definition.class

; Methods: `impl Type { fn name… }`, keyed Type.name.
(impl_item type: [
    (type_identifier) @container
    (generic_type type: (type_identifier) @container)
    (scoped_type_identifier name: (type_identifier) @container)
  ]
  body: (declaration_list [
    (function_item name: (identifier) @name body: (block) @body) @definition.method
    (const_item name: (identifier) @name) @definition.method
  ]))

; Imports: `use …;` and `mod name;`.
(use_declaration) @import
(mod_item !body) @import

; Names the code binds.
(parameter pattern: (identifier) @local)
(let_declaration pattern: (identifier) @local)
(let_declaration pattern: (tuple_pattern (identifier) @local))
(for_expression pattern: (identifier) @local)
(closure_parameters (identifier) @local)
(function_item name: (identifier) @local)
(struct_item name: (type_identifier) @local)
(enum_item name: (type_identifier) @local)

; Variables whose type is known: `q: &mut JobQueue`, `let q = JobQueue::new()`,
; `let q: JobQueue = …`, `let q = JobQueue { … }`.
(parameter pattern: (identifier) @receiver.var type: [
  (type_identifier) @receiver.type
  (reference_type type: (type_identifier) @receiver.type)
  (generic_type type: (type_identifier) @receiver.type)
  (reference_type type: (generic_type type: (type_identifier) @receiver.type))
])
(let_declaration pattern: (identifier) @receiver.var type: [
  (type_identifier) @receiver.type
  (generic_type type: (type_identifier) @receiver.type)
])
(let_declaration pattern: (identifier) @receiver.var
  value: (call_expression function: (scoped_identifier path: (identifier) @receiver.type)))
(let_declaration pattern: (identifier) @receiver.var
  value: (call_expression function: (scoped_identifier path: (generic_type type: (type_identifier) @receiver.type))))
(let_declaration pattern: (identifier) @receiver.var
  value: (struct_expression name: (type_identifier) @receiver.type))
