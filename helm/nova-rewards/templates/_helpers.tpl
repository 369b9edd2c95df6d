{{- define "nova.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "nova.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "nova.selectorLabels" -}}
app.kubernetes.io/name: {{ include "nova.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "nova.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "nova.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: nova-rewards
{{- end -}}

{{- define "nova.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "nova.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "nova.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Where referenced Secrets are mounted as files (never as values in the chart). */}}
{{- define "nova.secretsDir" -}}/var/run/secrets/nova{{- end -}}

{{/*
Environment from Secrets shared by the API and the workers: the database URL and the Temporal
credentials (an API key as a variable; certificates as files, see nova.secretVolumes).
*/}}
{{- define "nova.secretEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.existingSecret }}
      key: {{ .Values.database.urlKey }}
{{- with .Values.temporal.apiKey }}
{{- if .existingSecret }}
- name: TEMPORAL_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret }}
      key: {{ .key }}
{{- end }}
{{- end }}
{{- if .Values.temporal.clientCertificate.existingSecret }}
- name: TEMPORAL_TLS_CERT_PATH
  value: {{ include "nova.secretsDir" . }}/temporal-client/tls.crt
- name: TEMPORAL_TLS_KEY_PATH
  value: {{ include "nova.secretsDir" . }}/temporal-client/tls.key
{{- end }}
{{- if .Values.temporal.tls.ca.existingSecret }}
- name: TEMPORAL_TLS_CA_PATH
  value: {{ include "nova.secretsDir" . }}/temporal-ca/ca.crt
{{- end }}
{{- end -}}

{{/* Secret volumes: Temporal certificates for every pod; the Stellar signers for workers only. */}}
{{- define "nova.secretVolumes" -}}
{{- $root := .root -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- with $root.Values.temporal.clientCertificate }}
{{- if .existingSecret }}
- name: temporal-client
  secret:
    secretName: {{ .existingSecret }}
    defaultMode: 0440
    items:
      - { key: {{ .certKey | quote }}, path: tls.crt }
      - { key: {{ .keyKey | quote }}, path: tls.key }
{{- end }}
{{- end }}
{{- with $root.Values.temporal.tls.ca }}
{{- if .existingSecret }}
- name: temporal-ca
  secret:
    secretName: {{ .existingSecret }}
    defaultMode: 0440
    items:
      - { key: {{ .key | quote }}, path: ca.crt }
{{- end }}
{{- end }}
{{- if .signers }}
- name: stellar-signers
  secret:
    secretName: {{ $root.Values.stellar.signers.existingSecret }}
    defaultMode: 0440
    items:
      - { key: {{ $root.Values.stellar.signers.distributionSecretKey | quote }}, path: distribution-secret }
      - { key: {{ $root.Values.stellar.signers.channelSecretsKey | quote }}, path: channel-secrets }
{{- end }}
{{- end -}}

{{- define "nova.secretVolumeMounts" -}}
{{- $root := .root -}}
# The root filesystem is read-only: /tmp is the one writable place.
- name: tmp
  mountPath: /tmp
{{- if $root.Values.temporal.clientCertificate.existingSecret }}
- name: temporal-client
  mountPath: {{ include "nova.secretsDir" $root }}/temporal-client
  readOnly: true
{{- end }}
{{- if $root.Values.temporal.tls.ca.existingSecret }}
- name: temporal-ca
  mountPath: {{ include "nova.secretsDir" $root }}/temporal-ca
  readOnly: true
{{- end }}
{{- if .signers }}
- name: stellar-signers
  mountPath: {{ include "nova.secretsDir" $root }}/stellar
  readOnly: true
{{- end }}
{{- end -}}

{{- define "nova.terminationGracePeriodSeconds" -}}
{{- add .Values.workers.shutdownGraceSeconds .Values.workers.terminationGraceMarginSeconds -}}
{{- end -}}
