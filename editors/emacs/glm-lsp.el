;;; glm-lsp.el --- GLM-5.1 in Emacs through eglot  -*- lexical-binding: t; -*-

;; Version: 0.1
;; Package-Requires: ((emacs "28.1") (eglot "1.9"))
;; Keywords: tools, languages

;;; Commentary:

;; glm-lsp for eglot (built into Emacs 29+; Debian 12: Emacs 28 + the elpa-eglot package).
;;
;;   (add-to-list 'load-path "/path/to/glm-lsp/editors/emacs")
;;   (require 'glm-lsp)
;;   (glm-lsp-eglot-setup)          ; glm-lsp for `glm-lsp-modes', then M-x eglot
;;
;; Code actions (M-x eglot-code-actions on a region) work as in any LSP client.  This file adds
;; what plain eglot lacks:
;; - commands: `glm-lsp-agent', `glm-lsp-refactor', `glm-lsp-explain', `glm-lsp-status',
;;   `glm-lsp-cancel';
;; - explanations in a help buffer (Markdown view when markdown-mode is installed), through
;;   window/showDocument, instead of raw Markdown in the echo area;
;; - progress ($/progress) in the echo area and in `glm-lsp-progress' for the mode line;
;; - next-edit suggestions (`glm-lsp-next-edit-mode'): overlays, TAB to jump and apply;
;; - errors and warnings (a refused result, a bad setting) in *Warnings*, where they stay;
;; - commandReply "atOnce": eglot gives up on a request after `jsonrpc-default-request-timeout'
;;   (10 s), GLM often takes longer, so the server answers commands at once and sends the edit
;;   with workspace/applyEdit when it is ready.  Nothing reports "Timed out", edits apply once.
;;
;; The API key comes from the environment Emacs was started in (BIGMODEL_API_KEY or
;; ZAI_API_KEY), never from this file.

;;; Code:

(require 'cl-lib)
(require 'eglot)
(require 'jsonrpc)

(defgroup glm-lsp nil
  "GLM-5.1 through the glm-lsp language server."
  :group 'tools
  :prefix "glm-lsp-")

(defcustom glm-lsp-command '("glm-lsp")
  "How to start the server: the program and its arguments.
For example (\"/full/path/glm-lsp\" \"--log-file\" \"/tmp/glm-lsp.log\")."
  :type '(repeat string))

(defcustom glm-lsp-modes
  '(python-mode python-ts-mode js-mode js-ts-mode typescript-mode typescript-ts-mode
                go-mode go-ts-mode rust-mode rust-ts-mode c-mode c++-mode java-mode
                sh-mode lua-mode ruby-mode)
  "Major modes whose buffers `glm-lsp-eglot-setup' gives to glm-lsp.
eglot 1.9 runs one server per buffer: in these modes glm-lsp
replaces the usual server."
  :type '(repeat symbol))

(defcustom glm-lsp-settings nil
  "The server's `glm' settings section as a plist with camelCase keys.
For example (:model \"glm-5.1\" :actions (:thinking :json-false)), or the agent's
check (:agent (:checkCommand [\"python\" \"-m\" \"pytest\" \"-q\"])).  Sent as
initializationOptions and as the answer to workspace/configuration."
  :type 'plist)

(defvar glm-lsp-progress ""
  "The newest running GLM operation and its last message, for the mode line.")

(defclass glm-lsp-server (eglot-lsp-server) ()
  :documentation "glm-lsp: its own class, so what it adds leaves other servers alone.")

(defun glm-lsp--settings ()
  "The `glm' settings: the user's, with commandReply \"atOnce\" by default."
  (append glm-lsp-settings
          (unless (plist-member glm-lsp-settings :commandReply)
            (list :commandReply "atOnce"))))

;;;###autoload
(defun glm-lsp-eglot-setup ()
  "Use glm-lsp for the major modes in `glm-lsp-modes'."
  (dolist (mode glm-lsp-modes)
    (setq eglot-server-programs (assq-delete-all mode eglot-server-programs))
    (push (cons mode (cons 'glm-lsp-server glm-lsp-command)) eglot-server-programs)))

;;; What glm-lsp gets that plain eglot 1.9 does not offer

(cl-defmethod eglot-initialization-options ((_server glm-lsp-server))
  (list :glm (glm-lsp--settings)))

(cl-defmethod eglot-client-capabilities ((server glm-lsp-server))
  (let ((capabilities (copy-sequence (cl-call-next-method server))))
    (plist-put capabilities :window
               (append (list :workDoneProgress t :showDocument (list :support t))
                       (plist-get capabilities :window)))))

(cl-defmethod eglot-handle-request
  ((_server glm-lsp-server) (_method (eql workspace/configuration)) &key items)
  (vconcat (mapcar (lambda (item)
                     (if (equal (plist-get item :section) "glm") (glm-lsp--settings) nil))
                   items)))

(cl-defmethod eglot-handle-request
  ((_server glm-lsp-server) (_method (eql window/workDoneProgress/create)) &key _token)
  nil)

(defvar glm-lsp--progress-titles (make-hash-table :test #'equal)
  "Title of each running operation, by progress token.")

(cl-defmethod eglot-handle-notification
  ((_server glm-lsp-server) (_method (eql $/progress)) &key token value)
  (let* ((kind (plist-get value :kind))
         (title (or (plist-get value :title) (gethash token glm-lsp--progress-titles) "GLM"))
         (text (plist-get value :message)))
    (pcase kind
      ("begin" (puthash token title glm-lsp--progress-titles))
      ("end" (remhash token glm-lsp--progress-titles)))
    (setq glm-lsp-progress (if (equal kind "end") "" (format "%s – %s" title (or text "…"))))
    (let ((message-log-max (and (equal kind "end") message-log-max)))  ; only the end in *Messages*
      (message "%s – %s" title (or text (if (equal kind "end") "done" "…"))))
    (force-mode-line-update t)))

(cl-defmethod eglot-handle-notification
  ((_server glm-lsp-server) (_method (eql window/showMessage)) &key type message)
  "Errors and warnings (a refused result, a bad setting) go to *Warnings*, where they stay
until read: in the echo area they were gone in under a second.  The rest goes to the echo
area.  `warning-minimum-level' tunes what pops up."
  (if (<= type 2)
      (display-warning 'glm-lsp message (if (= type 1) :error :warning))
    (message "%s" message)))

(defun glm-lsp--show-markdown (file)
  "Show the Markdown FILE in a help buffer (rendered with markdown-mode)."
  (let ((text (with-temp-buffer
                (insert-file-contents file)
                (buffer-string))))
    (with-help-window "*GLM explanation*"
      (princ text))
    (with-current-buffer "*GLM explanation*"
      (when (fboundp 'gfm-view-mode)
        (funcall 'gfm-view-mode)))))

(cl-defmethod eglot-handle-request
  ((_server glm-lsp-server) (_method (eql window/showDocument)) &key uri &allow-other-keys)
  (let ((file (eglot--uri-to-path uri)))
    (if (string-suffix-p ".md" file)
        (glm-lsp--show-markdown file)
      (display-buffer (find-file-noselect file)))
    (list :success t)))

;;; Commands

(defun glm-lsp--server ()
  "The glm-lsp server of the current buffer, or an error saying what to do."
  (let ((server (eglot-current-server)))
    (unless (cl-typep server 'glm-lsp-server)
      (user-error "glm-lsp is not managing this buffer: M-x glm-lsp-eglot-setup, then M-x eglot"))
    server))

(defun glm-lsp--range (beg end)
  "The LSP range from BEG to END."
  (list :start (eglot--pos-to-lsp-position beg) :end (eglot--pos-to-lsp-position end)))

(defun glm-lsp--region ()
  "The active region's bounds, else point twice (the server takes the block)."
  (if (use-region-p) (list (region-beginning) (region-end)) (list (point) (point))))

(defun glm-lsp--execute-async (server command arguments &optional on-result)
  "Ask SERVER to run COMMAND (a string) with ARGUMENTS (a vector), without blocking.
ON-RESULT, when given, is called with the result."
  (jsonrpc-async-request
   server :workspace/executeCommand
   (list :command command :arguments arguments)
   :success-fn (lambda (result) (when on-result (funcall on-result result)))
   :error-fn (lambda (error)
               (message "GLM: %s failed: %s" command (plist-get error :message)))
   :timeout-fn #'ignore))  ; a command that outlives the timeout still reports by itself

(defun glm-lsp-execute (command argument &optional on-result)
  "Run the server's COMMAND with its one ARGUMENT (a plist), without blocking.
ON-RESULT, when given, is called with the result."
  (glm-lsp--execute-async (glm-lsp--server) command (vector argument) on-result))

(cl-defmethod eglot-execute-command ((server glm-lsp-server) command arguments)
  "Run a code action's COMMAND on SERVER without blocking, as `glm-lsp-execute' does.
Emacs 28's jsonrpc answers a blocking request by throwing out of the process filter, and a
message read in the same chunk (the progress token request the server sends right after
its answer) then waits for the next output: the progress would show only at the end."
  (glm-lsp--execute-async server (format "%s" command) arguments))

;;;###autoload
(defun glm-lsp-agent (instruction)
  "Let the GLM agent change the workspace as INSTRUCTION says.
The change arrives as one edit; an active region points the agent at it."
  (interactive (list (read-string "GLM agent: ")))
  (when (string-empty-p (string-trim instruction))
    (user-error "No instruction"))
  (let ((argument (list :instruction (string-trim instruction))))
    (when buffer-file-name
      (setq argument (append argument (list :uri (eglot--path-to-uri buffer-file-name))))
      (when (use-region-p)
        (setq argument (append argument
                               (list :range (glm-lsp--range (region-beginning) (region-end)))))))
    (glm-lsp-execute "glm.agent" argument)))

;;;###autoload
(defun glm-lsp-refactor (beg end instruction)
  "Rewrite the code from BEG to END, as INSTRUCTION says when it is not empty."
  (interactive `(,@(glm-lsp--region) ,(read-string "GLM refactor (empty: improve it): ")))
  (let ((argument (list :uri (eglot--path-to-uri buffer-file-name)
                        :range (glm-lsp--range beg end))))
    (unless (string-empty-p (string-trim instruction))
      (setq argument (append argument (list :instruction (string-trim instruction)))))
    (glm-lsp-execute "glm.refactor" argument)))

;;;###autoload
(defun glm-lsp-explain (beg end)
  "Explain the code from BEG to END in the *GLM explanation* buffer."
  (interactive (glm-lsp--region))
  (glm-lsp-execute "glm.explain" (list :uri (eglot--path-to-uri buffer-file-name)
                                       :range (glm-lsp--range beg end))))

;;;###autoload
(defun glm-lsp-status ()
  "Show GLM usage so far (requests, tokens by feature) in *GLM status*."
  (interactive)
  (glm-lsp-execute
   "glm.status" (make-hash-table)
   (lambda (status)
     (with-help-window "*GLM status*"
       (princ (format "model %s, key %s\n\n" (plist-get status :model)
                      (if (eq (plist-get status :hasKey) t) "set" "missing")))
       (cl-loop for (key value) on status by #'cddr
                unless (memq key '(:model :hasKey))
                do (princ (format "%s: %S\n" (substring (symbol-name key) 1) value)))))))

;;;###autoload
(defun glm-lsp-check ()
  "Run the project's check (glm agent.checkCommand) on the workspace as it is.
The result is shown as a message; the first run asks before the command runs."
  (interactive)
  (glm-lsp-execute "glm.check" (make-hash-table)))

;;;###autoload
(defun glm-lsp-cancel ()
  "Cancel every GLM request still running; nothing of theirs is applied."
  (interactive)
  (glm-lsp-execute "glm.cancel" (make-hash-table)))

;;; Next-edit suggestions

(defcustom glm-lsp-next-edit t
  "Show GLM's next-edit suggestions in buffers glm-lsp manages.
After `glm-lsp-next-edit-idle-delay' seconds without typing, the server
predicts the edit you will make next in the lines around point.  It shows
as overlays: the text it replaces struck through, the new text after it.
TAB jumps to it when point is elsewhere and applies it when point is on
it; typing on, ESC, C-g or leaving the buffer dismisses it."
  :type 'boolean)

(defcustom glm-lsp-next-edit-idle-delay 0.5
  "Seconds without typing before a next edit is asked for."
  :type 'number)

(defface glm-lsp-next-edit-deletion-face
  '((t :inherit diff-removed :strike-through t))
  "Text a next edit would replace.")

(defface glm-lsp-next-edit-insertion-face
  '((t :inherit diff-added))
  "Text a next edit would insert.")

(defvar-local glm-lsp--next-edit nil
  "The pending next edit (the server's plist: :text :range :command :textDocument).")
(defvar-local glm-lsp--next-edit-overlays nil)
(defvar-local glm-lsp--next-edit-timer nil)
(defvar glm-lsp-next-edit-mode)
(defvar glm-lsp--next-edit-buffer nil
  "The buffer that shows a next edit (one at a time).")

(defun glm-lsp-next-edit-dismiss ()
  "Remove the next edit of the current buffer; its text is left as it is."
  (interactive)
  (mapc #'delete-overlay glm-lsp--next-edit-overlays)
  (setq glm-lsp--next-edit-overlays nil
        glm-lsp--next-edit nil)
  (when (eq glm-lsp--next-edit-buffer (current-buffer))
    (setq glm-lsp--next-edit-buffer nil)))

(defun glm-lsp--next-edit-show (edit)
  "Show EDIT as overlays."
  (glm-lsp-next-edit-dismiss)
  (let* ((region (eglot--range-region (plist-get edit :range)))
         (beg (car region))
         (end (cdr region))
         (text (or (plist-get edit :text) "")))
    (when (> end beg)
      (let ((overlay (make-overlay beg end)))
        (overlay-put overlay 'face 'glm-lsp-next-edit-deletion-face)
        (overlay-put overlay 'glm-lsp-next-edit t)
        (push overlay glm-lsp--next-edit-overlays)))
    (unless (string-empty-p text)
      (let ((overlay (make-overlay end end)))
        (overlay-put overlay 'after-string
                     (propertize text 'face 'glm-lsp-next-edit-insertion-face))
        (overlay-put overlay 'glm-lsp-next-edit t)
        (push overlay glm-lsp--next-edit-overlays)))
    (setq glm-lsp--next-edit edit
          glm-lsp--next-edit-buffer (current-buffer))))

(defun glm-lsp-next-edit-request ()
  "Ask glm-lsp for the next edit at point (what the idle timer does)."
  (interactive)
  (let ((server (eglot-current-server))
        (buffer (current-buffer)))
    (when (cl-typep server 'glm-lsp-server)
      (eglot--signal-textDocument/didChange)  ; the server must see the text we ask about
      (let ((version eglot--versioned-identifier))
        (jsonrpc-async-request
         server :textDocument/copilotInlineEdit
         (list :textDocument (eglot--VersionedTextDocumentIdentifier)
               :position (eglot--pos-to-lsp-position)
               :context (list :triggerKind 2))
         :success-fn
         (lambda (result)
           (let ((edits (plist-get result :edits)))
             (when (and (buffer-live-p buffer) (> (length edits) 0))
               (with-current-buffer buffer
                 ;; Not for text that changed since, nor for a buffer left meanwhile.
                 (when (and (eq version eglot--versioned-identifier)
                            (eq buffer (window-buffer (selected-window))))
                   (let ((edit (elt edits 0)))
                     (glm-lsp--next-edit-show edit)
                     (jsonrpc-notify server :textDocument/didShowInlineEdit
                                     (list :item (list :command (plist-get edit :command))))))))))
         :error-fn #'ignore
         :timeout-fn #'ignore)))))

(defun glm-lsp-next-edit-accept ()
  "Jump to the next edit when point is elsewhere; apply it when point is on it."
  (interactive)
  (when glm-lsp--next-edit
    (let* ((edit glm-lsp--next-edit)
           (region (eglot--range-region (plist-get edit :range)))
           (beg (car region))
           (end (cdr region))
           (line (line-number-at-pos)))
      (if (or (< line (line-number-at-pos beg)) (> line (line-number-at-pos end)))
          (goto-char beg)
        (glm-lsp-next-edit-dismiss)
        (save-excursion
          (goto-char beg)
          (delete-region beg end)
          (insert (or (plist-get edit :text) "")))
        (glm-lsp-next-edit-dismiss)
        (let ((command (plist-get edit :command)))
          (when command
            (glm-lsp--execute-async (eglot-current-server) (plist-get command :command)
                                    (plist-get command :arguments))))))))

(defun glm-lsp--next-edit-changed (&rest _)
  "Typing on: the next edit goes; a new one is asked for after the idle delay."
  (when glm-lsp--next-edit
    (glm-lsp-next-edit-dismiss))
  (when (timerp glm-lsp--next-edit-timer)
    (cancel-timer glm-lsp--next-edit-timer))
  (setq glm-lsp--next-edit-timer
        (run-with-idle-timer glm-lsp-next-edit-idle-delay nil
                             #'glm-lsp--next-edit-request-in (current-buffer))))

(defun glm-lsp--next-edit-request-in (buffer)
  (when (and (buffer-live-p buffer) (eq buffer (window-buffer (selected-window))))
    (with-current-buffer buffer
      (when glm-lsp-next-edit-mode
        (glm-lsp-next-edit-request)))))

(defun glm-lsp--next-edit-left-buffer ()
  "Leaving the buffer dismisses its next edit."
  (let ((shown glm-lsp--next-edit-buffer))
    (when (and shown (not (eq shown (current-buffer))) (buffer-live-p shown))
      (with-current-buffer shown
        (glm-lsp-next-edit-dismiss)))))

(defvar glm-lsp-next-edit-mode-map
  (let ((map (make-sparse-keymap))
        (accept `(menu-item "" glm-lsp-next-edit-accept
                            :filter ,(lambda (command) (when glm-lsp--next-edit command))))
        (dismiss `(menu-item "" glm-lsp-next-edit-dismiss
                             :filter ,(lambda (command) (when glm-lsp--next-edit command)))))
    (define-key map (kbd "TAB") accept)
    (define-key map [tab] accept)
    (define-key map [escape] dismiss)
    (define-key map (kbd "C-g") dismiss)
    map)
  "Keys that act only while a next edit shows.")

(define-minor-mode glm-lsp-next-edit-mode
  "GLM's next-edit suggestions in this buffer (see `glm-lsp-next-edit')."
  :lighter " GLM-next"
  :keymap glm-lsp-next-edit-mode-map
  (if glm-lsp-next-edit-mode
      (progn
        (add-hook 'after-change-functions #'glm-lsp--next-edit-changed nil t)
        (add-hook 'post-command-hook #'glm-lsp--next-edit-left-buffer))
    (remove-hook 'after-change-functions #'glm-lsp--next-edit-changed t)
    (when (timerp glm-lsp--next-edit-timer)
      (cancel-timer glm-lsp--next-edit-timer))
    (glm-lsp-next-edit-dismiss)))

(defun glm-lsp--maybe-next-edit ()
  "Turn `glm-lsp-next-edit-mode' on in buffers glm-lsp manages."
  (when (and glm-lsp-next-edit (cl-typep (eglot-current-server) 'glm-lsp-server))
    (glm-lsp-next-edit-mode (if (bound-and-true-p eglot--managed-mode) 1 -1))))

(add-hook 'eglot-managed-mode-hook #'glm-lsp--maybe-next-edit)

(provide 'glm-lsp)
;;; glm-lsp.el ends here
