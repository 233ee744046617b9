; Definitions.
(class_declaration name: (identifier) @name body: (declaration_list) @body) @definition.class
(struct_declaration name: (identifier) @name body: (declaration_list) @body) @definition.class
(interface_declaration name: (identifier) @name body: (declaration_list) @body) @definition.class
(record_declaration name: (identifier) @name) @definition.class
(enum_declaration name: (identifier) @name body: (enum_member_declaration_list) @body) @definition.type
(delegate_declaration name: (identifier) @name) @definition.type

; Members, keyed Type.name.
([(class_declaration name: (identifier) @container body: (declaration_list [
    (method_declaration name: (identifier) @name) @definition.method
    (constructor_declaration name: (identifier) @name) @definition.method
    (property_declaration name: (identifier) @name) @definition.method
  ]))
  (struct_declaration name: (identifier) @container body: (declaration_list [
    (method_declaration name: (identifier) @name) @definition.method
    (property_declaration name: (identifier) @name) @definition.method
  ]))
  (interface_declaration name: (identifier) @container body: (declaration_list [
    (method_declaration name: (identifier) @name) @definition.method
    (property_declaration name: (identifier) @name) @definition.method
  ]))])

; Imports, and the namespace a file declares.
(using_directive) @import
(namespace_declaration name: (_) @namespace)
(file_scoped_namespace_declaration name: (_) @namespace)

; Names the code binds.
(parameter name: (identifier) @local)
(variable_declarator name: (identifier) @local)
(foreach_statement left: (identifier) @local)
(catch_declaration name: (identifier) @local)

; Variables whose type is known: `TaxCalculator c`, `var c = new TaxCalculator()`.
(parameter type: (identifier) @receiver.type name: (identifier) @receiver.var)
(variable_declaration type: (identifier) @receiver.type (variable_declarator name: (identifier) @receiver.var))
(variable_declaration (variable_declarator name: (identifier) @receiver.var
  (object_creation_expression type: (identifier) @receiver.type)))
(field_declaration (variable_declaration type: (identifier) @receiver.type
  (variable_declarator name: (identifier) @receiver.var)))
