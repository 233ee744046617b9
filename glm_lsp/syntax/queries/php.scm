; Definitions.
(class_declaration name: (name) @name body: (declaration_list) @body) @definition.class
(interface_declaration name: (name) @name body: (declaration_list) @body) @definition.class
(trait_declaration name: (name) @name body: (declaration_list) @body) @definition.class
(enum_declaration name: (name) @name body: (enum_declaration_list) @body) @definition.class
(function_definition name: (name) @name body: (compound_statement) @body) @definition.function
(const_declaration (const_element (name) @name)) @definition.value

; Methods, keyed Class.name.
([(class_declaration name: (name) @container body: (declaration_list
    (method_declaration name: (name) @name) @definition.method))
  (interface_declaration name: (name) @container body: (declaration_list
    (method_declaration name: (name) @name) @definition.method))
  (trait_declaration name: (name) @container body: (declaration_list
    (method_declaration name: (name) @name) @definition.method))])

; Imports, and the namespace a file declares.
(namespace_use_declaration) @import
(namespace_definition name: (namespace_name) @namespace)
((expression_statement [(require_once_expression) (require_expression) (include_expression) (include_once_expression)]) @import)

; Names the code binds.
(simple_parameter name: (variable_name (name) @local))
(property_promotion_parameter name: (variable_name (name) @local))
(assignment_expression left: (variable_name (name) @local))
(foreach_statement (pair (variable_name (name) @local)))
(foreach_statement (variable_name (name) @local))

; Variables whose type is known: `Slugger $s`, `$s = new Slugger()`, promoted properties.
(simple_parameter type: (named_type (name) @receiver.type) name: (variable_name (name) @receiver.var))
(property_promotion_parameter type: (named_type (name) @receiver.type) name: (variable_name (name) @receiver.var))
(assignment_expression left: (variable_name (name) @receiver.var)
  right: (object_creation_expression (name) @receiver.type))
(property_declaration type: (named_type (name) @receiver.type)
  (property_element name: (variable_name (name) @receiver.var)))
