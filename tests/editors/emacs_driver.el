;;; emacs_driver.el --- Emacs in batch mode with eglot and editors/emacs, for test_emacs.py  -*- lexical-binding: t; -*-

;;; Commentary:

;; Loaded by tests/editors/test_emacs.py after editors/emacs/glm-lsp.el.  One scenario per run
;; (GLM_TEST_SCENARIO); the result (buffer texts, *Messages*, counts, or an error) is written as
;; JSON to GLM_TEST_RESULT.  Each step does what a user does: open files, select a region, pick
;; a code action from eglot's menu, run an M-x command, and waits (bounded) for the outcome.

;;; Code:

(require 'cl-lib)
(require 'json)
(require 'glm-lsp)

(setq eglot-confirm-server-initiated-edits nil ; batch mode cannot answer y-or-n-p
      eglot-sync-connect t
      eglot-autoreconnect nil
      glm-lsp-command (list (getenv "GLM_TEST_SERVER") "--log-file" (getenv "GLM_TEST_LOG") "-vv")
      glm-lsp-settings '(:completion (:enabled :json-false)))

(defvar glm-test-applied-edits 0 "How many workspace/applyEdit requests eglot applied.")
(advice-add 'eglot--apply-workspace-edit :before
            (lambda (&rest _) (cl-incf glm-test-applied-edits)))

(defun glm-test-wait (predicate what &optional seconds)
  "Process events until PREDICATE holds; fail naming WHAT after SECONDS (default 30)."
  (let ((deadline (+ (float-time) (or seconds 30))))
    (while (and (not (funcall predicate)) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (unless (funcall predicate)
      (error "Timed out waiting for %s" what))))

(defun glm-test-settle (seconds)
  "Keep processing events for SECONDS: anything still on its way arrives."
  (let ((deadline (+ (float-time) seconds)))
    (while (< (float-time) deadline)
      (accept-process-output nil 0.05))))

(defun glm-test-open (relative)
  "Visit RELATIVE in the workspace, managed by glm-lsp; its buffer."
  (find-file (expand-file-name relative))
  (unless (eglot-current-server)
    (eglot '(python-mode) (cons 'transient default-directory) 'glm-lsp-server
           glm-lsp-command "python"))
  (glm-test-wait (lambda () (eglot-managed-p)) (format "eglot to manage %s" relative))
  (current-buffer))

(defun glm-test-select-lines (first last)
  "Select whole lines FIRST..LAST (1-based), as with the mouse or C-SPC."
  (goto-char (point-min))
  (forward-line (1- first))
  (push-mark (point) t t)
  (forward-line (1+ (- last first)))
  (activate-mark))

(defun glm-test-code-action (title-prefix)
  "Open eglot's code action menu on the region and pick the action starting TITLE-PREFIX."
  (let ((last-nonmenu-event ?\r)  ; a keyboard user: the menu is read with completing-read
        (offered nil))
    (cl-letf (((symbol-function 'completing-read)
               (lambda (_prompt collection &rest _)
                 (setq offered (all-completions "" collection))
                 (or (cl-find-if (lambda (title) (string-prefix-p title-prefix title)) offered)
                     (error "No %s in the menu: %S" title-prefix offered)))))
      (call-interactively #'eglot-code-actions))))

(defun glm-test-text (buffer)
  (with-current-buffer buffer (buffer-substring-no-properties (point-min) (point-max))))

(defun glm-test-messages ()
  (with-current-buffer (messages-buffer) (buffer-substring-no-properties (point-min) (point-max))))

;;; Scenarios: each returns an alist that goes into the result

(defun glm-test-scenario-refactor ()
  (let ((calc (glm-test-open "calc.py")))
    (glm-test-select-lines 4 8)
    (glm-test-code-action "GLM: Refactor")
    (glm-test-wait (lambda () (string-match-p "sum(values)" (glm-test-text calc)))
                   "the refactored code" 60)
    ;; A progress that began ends after the edit; on a busy machine that can take seconds.
    (glm-test-wait (lambda () (zerop (hash-table-count glm-lsp--progress-titles)))
                   "the refactor's progress to end" 30)
    (glm-test-settle 2)  ; a second application would come right after the first
    `((calc . ,(glm-test-text calc)))))

(defun glm-test-scenario-agent ()
  (let ((util (glm-test-open "util.py"))
        (calc (glm-test-open "calc.py")))
    (glm-lsp-agent "add type hints to add and clamp")
    (glm-test-wait (lambda () (and (string-match-p "a: float" (glm-test-text calc))
                                   (string-match-p "value: float" (glm-test-text util))))
                   "both buffers to hold the agent's edits" 60)
    (glm-test-settle 1)
    `((calc . ,(glm-test-text calc)) (util . ,(glm-test-text util)))))

(defvar glm-test-questions nil "The y-or-n-p questions asked, each answered yes.")

(defun glm-test-scenario-agent-create ()
  "The agent edits calc.py and creates tests/test_calc.py; eglot asks before editing a file
that no buffer visits, and the user says yes."
  (let ((calc (glm-test-open "calc.py"))
        (new-file (expand-file-name "tests/test_calc.py")))
    (cl-letf (((symbol-function 'y-or-n-p)
               (lambda (prompt) (push prompt glm-test-questions) t)))
      (glm-lsp-agent "add type hints to add and write a test for it")
      (glm-test-wait (lambda () (and (string-match-p "a: float" (glm-test-text calc))
                                     (find-buffer-visiting new-file)))
                     "the edit in calc.py and the new file's buffer" 60)
      (glm-test-settle 1))
    `((calc . ,(glm-test-text calc))
      (created . ,(glm-test-text (find-buffer-visiting new-file)))
      (questions . ,(vconcat glm-test-questions)))))

(defun glm-test-scenario-agent-refused ()
  "The agent deletes a file, which eglot 1.9 cannot do: the refusal must stay readable."
  (glm-test-open "calc.py")
  (glm-lsp-agent "remove util.py")
  (glm-test-wait (lambda () (string-match-p "nothing was applied" (glm-test-messages)))
                 "the refusal" 60)
  (glm-test-settle 0.5)
  (glm-test-wait (lambda () (zerop (hash-table-count glm-lsp--progress-titles)))
                 "the agent's progress to end" 30)
  (glm-test-settle 1.5)
  `((warnings . ,(if (get-buffer "*Warnings*") (glm-test-text "*Warnings*") ""))))

(defun glm-test-scenario-explain ()
  (glm-test-open "calc.py")
  (glm-test-select-lines 4 8)
  (call-interactively #'glm-lsp-explain)
  (glm-test-wait (lambda () (get-buffer "*GLM explanation*")) "the explanation buffer" 60)
  `((explanation . ,(glm-test-text "*GLM explanation*"))
    (explanation_mode . ,(symbol-name (buffer-local-value 'major-mode
                                                          (get-buffer "*GLM explanation*"))))))

(defun glm-test-scenario-status ()
  (glm-test-open "calc.py")
  (call-interactively #'glm-lsp-status)
  (glm-test-wait (lambda () (get-buffer "*GLM status*")) "the status buffer")
  `((status . ,(glm-test-text "*GLM status*"))))

;; The idle timer calls `glm-lsp-next-edit-request'; batch Emacs is never idle, so the
;; scenario calls it where the pause would be.  Edits go through after-change-functions, as
;; typing does.
(defun glm-test-next-edit-overlays ()
  "The text the pending next edit shows: (replaced . inserted) of its overlays."
  (let ((replaced "") (inserted ""))
    (dolist (overlay (overlays-in (point-min) (point-max)))
      (when (overlay-get overlay 'glm-lsp-next-edit)
        (if (overlay-get overlay 'after-string)
            (setq inserted (concat inserted (overlay-get overlay 'after-string)))
          (setq replaced (buffer-substring-no-properties (overlay-start overlay)
                                                         (overlay-end overlay))))))
    (and (or (> (length replaced) 0) (> (length inserted) 0))
         (list replaced (substring-no-properties inserted)))))

(defun glm-test-replace-on-line (line old new)
  "On LINE (1-based), replace the first OLD with NEW, as a user typing it."
  (goto-char (point-min))
  (forward-line (1- line))
  (search-forward old (line-end-position))
  (replace-match new t t))

(defun glm-test-scenario-next-edit ()
  (let ((calc (glm-test-open "calc.py"))
        shown after-jump accepted second dismissed)
    (unless glm-lsp-next-edit-mode (error "glm-lsp-next-edit-mode is off"))
    (glm-test-replace-on-line 4 "values" "items")   ; the user renames the parameter
    (glm-lsp-next-edit-request)                      ; the idle pause
    (glm-test-wait #'glm-test-next-edit-overlays "the next edit's overlays")
    (setq shown (glm-test-next-edit-overlays))
    (call-interactively #'glm-lsp-next-edit-accept) ; point is on line 4: TAB jumps
    (setq after-jump (list (line-number-at-pos) (glm-test-text calc)))
    (call-interactively #'glm-lsp-next-edit-accept) ; on the edit: TAB applies it
    (setq accepted (glm-test-text calc))
    (glm-test-replace-on-line 5 "result" "acc")      ; a second rename
    (glm-lsp-next-edit-request)
    (glm-test-wait #'glm-test-next-edit-overlays "the second next edit")
    (setq second (glm-test-next-edit-overlays))
    (goto-char (point-max))
    (insert "# end\n")                             ; typing on
    (setq dismissed (list (glm-test-next-edit-overlays) (glm-test-text calc)))
    (glm-test-settle 1)
    `((shown . ,shown) (after_jump . ,after-jump) (accepted . ,accepted)
      (second . ,second) (dismissed . ,dismissed))))

(defun glm-test-main ()
  "Run GLM_TEST_SCENARIO in GLM_TEST_WORKSPACE, write the JSON result, exit."
  (let* ((default-directory (file-name-as-directory (getenv "GLM_TEST_WORKSPACE")))
         (scenario (intern (concat "glm-test-scenario-" (getenv "GLM_TEST_SCENARIO"))))
         (result (condition-case err
                     (funcall scenario)
                   (error `((error . ,(error-message-string err)))))))
    (setq result (append result `((messages . ,(glm-test-messages))
                                  (applied_edits . ,glm-test-applied-edits))))
    (with-temp-file (getenv "GLM_TEST_RESULT")
      (insert (json-encode result)))
    (kill-emacs 0)))

;;; emacs_driver.el ends here
