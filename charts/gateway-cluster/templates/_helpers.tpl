{{- define "gwc.name" -}}{{ .Values.nameOverride | default "gateway-cluster-operator" | trunc 63 | trimSuffix "-" }}{{- end -}}

{{- define "gwc.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{ .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else -}}
{{- $base := .Values.nameOverride | default "gateway-cluster" -}}
{{- if contains $base .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name $base | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}
{{- end -}}

{{- /* The full name with a suffix, the full name shortened so the whole stays within Kubernetes' 63: (list . "metrics") */ -}}
{{- define "gwc.suffixed" -}}
{{- $suffix := index . 1 -}}
{{ include "gwc.fullname" (index . 0) | trunc (int (sub 62 (len $suffix))) | trimSuffix "-" }}-{{ $suffix }}
{{- end -}}

{{- define "gwc.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gwc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{- /* The recommended labels, on every object and pod template. */ -}}
{{- define "gwc.labels" -}}
{{ include "gwc.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: gateway-cluster
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{- define "gwc.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ default (include "gwc.fullname" .) .Values.serviceAccount.name }}{{- else -}}{{ default "default" .Values.serviceAccount.name }}{{- end -}}
{{- end -}}

{{- /* The operator's image, by digest when one is given; GatewayClusters that pin none run operandImage, or this. */ -}}
{{- define "gwc.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{- /* Values that cannot work together fail the install with a message. */ -}}
{{- define "gwc.validate" -}}
{{- if and (not .Values.leaderElection.enabled) (gt (int .Values.replicaCount) 1) -}}
{{- fail (printf "replicaCount=%d needs leaderElection.enabled=true: without it every replica reconciles, and they fight" (int .Values.replicaCount)) -}}
{{- end -}}
{{- end -}}
