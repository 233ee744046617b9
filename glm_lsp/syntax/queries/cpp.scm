; Definitions: functions (bodies and prototypes), classes, structs, enums, aliases, macros.
(function_definition declarator: [
  (function_declarator declarator: (identifier) @name)
  (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))
  (reference_declarator (function_declarator declarator: (identifier) @name))
] body: (compound_statement) @body) @definition.function
(template_declaration (function_definition declarator: (function_declarator declarator: (identifier) @name) body: (compound_statement) @body)) @definition.function
(declaration declarator: [
  (function_declarator declarator: (identifier) @name)
  (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))
  (reference_declarator (function_declarator declarator: (identifier) @name))
]) @definition.function
(template_declaration (declaration declarator: (function_declarator declarator: (identifier) @name))) @definition.function
(class_specifier name: (type_identifier) @name body: (field_declaration_list) @body) @definition.class
(struct_specifier name: (type_identifier) @name body: (field_declaration_list) @body) @definition.class
(template_declaration [
  (class_specifier name: (type_identifier) @name body: (field_declaration_list) @body)
  (struct_specifier name: (type_identifier) @name body: (field_declaration_list) @body)
]) @definition.class
(union_specifier name: (type_identifier) @name body: (field_declaration_list)) @definition.type
(enum_specifier name: (type_identifier) @name body: (enumerator_list)) @definition.type
(type_definition declarator: (type_identifier) @name) @definition.type
(alias_declaration name: (type_identifier) @name) @definition.type
(preproc_def name: (identifier) @name) @definition.value
(preproc_function_def name: (identifier) @name) @definition.value
(declaration declarator: (init_declarator declarator: (identifier) @name)) @definition.value

; Methods defined outside their class: `void Timer::start() {…}`, keyed Timer.start.
(function_definition declarator: [
  (function_declarator declarator: (qualified_identifier scope: (namespace_identifier) @container name: [(identifier) (destructor_name) (operator_name)] @name))
  (pointer_declarator declarator: (function_declarator declarator: (qualified_identifier scope: (namespace_identifier) @container name: (identifier) @name)))
  (reference_declarator (function_declarator declarator: (qualified_identifier scope: (namespace_identifier) @container name: (identifier) @name)))
] body: (compound_statement) @body) @definition.method
; … and inside it.
([(class_specifier name: (type_identifier) @container body: (field_declaration_list [
    (function_definition declarator: (function_declarator declarator: [(field_identifier) (identifier)] @name) body: (compound_statement) @body) @definition.method
    (field_declaration declarator: (function_declarator declarator: (field_identifier) @name)) @definition.method
    (declaration declarator: (function_declarator declarator: (identifier) @name)) @definition.method
  ]))
  (struct_specifier name: (type_identifier) @container body: (field_declaration_list [
    (function_definition declarator: (function_declarator declarator: [(field_identifier) (identifier)] @name) body: (compound_statement) @body) @definition.method
    (field_declaration declarator: (function_declarator declarator: (field_identifier) @name)) @definition.method
  ]))])

; Imports.
(preproc_include) @import
(using_declaration) @import

; Names the code binds.
(parameter_declaration declarator: (identifier) @local)
(parameter_declaration declarator: (pointer_declarator declarator: (identifier) @local))
(parameter_declaration declarator: (reference_declarator (identifier) @local))
(optional_parameter_declaration declarator: (identifier) @local)
(declaration declarator: (identifier) @local)
(declaration declarator: (init_declarator declarator: (identifier) @local))
(declaration declarator: (pointer_declarator declarator: (identifier) @local))
(declaration declarator: (reference_declarator (identifier) @local))
(for_range_loop declarator: (identifier) @local)

; Variables whose type is known: `Timer t;`, `Timer& t`, `auto t = Timer(…)`, `new Timer`.
(parameter_declaration type: (type_identifier) @receiver.type declarator: [
  (identifier) @receiver.var
  (reference_declarator (identifier) @receiver.var)
  (pointer_declarator declarator: (identifier) @receiver.var)
])
(declaration type: (type_identifier) @receiver.type declarator: [
  (identifier) @receiver.var
  (init_declarator declarator: (identifier) @receiver.var)
  (pointer_declarator declarator: (identifier) @receiver.var)
  (reference_declarator (identifier) @receiver.var)
])
(declaration type: (qualified_identifier name: (type_identifier) @receiver.type) declarator: [
  (identifier) @receiver.var
  (init_declarator declarator: (identifier) @receiver.var)
])
(declaration declarator: (init_declarator declarator: (identifier) @receiver.var value: [
  (call_expression function: (identifier) @receiver.type)
  (new_expression type: (type_identifier) @receiver.type)
]))
