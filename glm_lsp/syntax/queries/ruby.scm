; Definitions.
(class name: (constant) @name) @definition.class
(module name: (constant) @name) @definition.class
(method name: (_) @name) @definition.function
(singleton_method name: (_) @name) @definition.function
(assignment left: (constant) @name) @definition.value

; Methods, keyed Class.name (`def self.x` too: `Slugger.slugify`).
([(class name: (constant) @container body: (body_statement [
    (method name: (_) @name) @definition.method
    (singleton_method name: (_) @name) @definition.method
  ]))
  (module name: (constant) @container body: (body_statement [
    (method name: (_) @name) @definition.method
    (singleton_method name: (_) @name) @definition.method
  ]))])

; Imports: require / require_relative / load.
((call method: (identifier) @_require arguments: (argument_list (string))) @import
  (#match? @_require "^(require|require_relative|load)$"))

; Names the code binds.
(method_parameters (identifier) @local)
(method_parameters (optional_parameter name: (identifier) @local))
(method_parameters (keyword_parameter name: (identifier) @local))
(block_parameters (identifier) @local)
(assignment left: (identifier) @local)
(for pattern: (identifier) @local)

; Variables whose type is known: `s = Slugger.new(…)`.
(assignment left: (identifier) @receiver.var
  right: (call receiver: (constant) @receiver.type method: (identifier) @_new (#eq? @_new "new")))
(assignment left: (instance_variable) @receiver.var
  right: (call receiver: (constant) @receiver.type method: (identifier) @_new (#eq? @_new "new")))
