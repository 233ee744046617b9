; Definitions: functions (bodies and prototypes), structs, enums, typedefs, macros.
(function_definition declarator: [
  (function_declarator declarator: (identifier) @name)
  (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))
  (pointer_declarator declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name)))
] body: (compound_statement) @body) @definition.function
(declaration declarator: [
  (function_declarator declarator: (identifier) @name)
  (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))
]) @definition.function
(type_definition declarator: (type_identifier) @name) @definition.type
(type_definition declarator: (pointer_declarator declarator: (type_identifier) @name)) @definition.type
(struct_specifier name: (type_identifier) @name body: (field_declaration_list)) @definition.type
(union_specifier name: (type_identifier) @name body: (field_declaration_list)) @definition.type
(enum_specifier name: (type_identifier) @name body: (enumerator_list)) @definition.type
(enumerator name: (identifier) @name) @definition.value
(preproc_def name: (identifier) @name) @definition.value
(preproc_function_def name: (identifier) @name) @definition.value
(declaration declarator: (init_declarator declarator: (identifier) @name)) @definition.value

; Imports.
(preproc_include) @import

; Names the code binds.
(parameter_declaration declarator: (identifier) @local)
(parameter_declaration declarator: (pointer_declarator declarator: (identifier) @local))
(declaration declarator: (identifier) @local)
(declaration declarator: (init_declarator declarator: (identifier) @local))
(declaration declarator: (pointer_declarator declarator: (identifier) @local))
(declaration declarator: (init_declarator declarator: (pointer_declarator declarator: (identifier) @local)))

; Variables whose type is known: `Vec2 v`, `struct vec2 *v`.
(parameter_declaration type: (type_identifier) @receiver.type declarator: (identifier) @receiver.var)
(parameter_declaration type: (type_identifier) @receiver.type declarator: (pointer_declarator declarator: (identifier) @receiver.var))
(declaration type: (type_identifier) @receiver.type declarator: [
  (identifier) @receiver.var
  (init_declarator declarator: (identifier) @receiver.var)
])
